//! Facts about CKKS parameters that both the compiler and the runtime need: parameter sets,
//! their validation, and the HE-standard 128-bit security bound. Kept in one place so the two
//! sides can never disagree (DESIGN §2).
