//! The homomorphic IR: SSA programs over ciphertexts and plaintext recipes (DESIGN §3).
