#!/usr/bin/env python3
"""OpenFHE peer of `fhec bench ckks --json`: per-operation CKKS timings and precision.

Runs the operations of DESIGN §10 through the `openfhe` PyPI package with the parameters given on
the command line (ring degree, levels, moduli sizes, dnum, thread count) and prints one JSON
document in the shape of `fhec bench ckks --json`, plus "peer" and "openfhe_version".

What each operation measures (one untimed warm-up call first, then --repeats timed calls):

  ntt                   not reachable from OpenFHE's Python API: null timings and a note
  mul_relin_rescale     EvalMult of two fresh ciphertexts (includes relinearisation), then Rescale
  rotate                EvalRotate by --rotation-step on a fresh ciphertext
  hoisted_rotate_extra  EvalFastRotationPrecompute once (reported as precompute_ms), then each of
                        --hoisted EvalFastRotation calls; the sample is their mean
  mul_plain             EvalMult of a fresh ciphertext by a plaintext at the same level (no rescale)
  encode                MakeCKKSPackedPlaintext of a numpy array
  encrypt               Encrypt with the public key
  decrypt               Decrypt with the secret key (OpenFHE decodes inside Decrypt)
  keygen_rotation       EvalRotateKeyGen for one new rotation index

Precision is -log2(mean |error|) over all slots of all repeats, on inputs uniform in [-1, 1],
against the exact result computed in float64 (the real part of each slot, inputs being real);
"precision_min_bits" is -log2(max |error|) (the worst slot). Operations run on fresh
ciphertexts, i.e. at the top of the modulus chain where they are most expensive.

Run it with the venv made by setup.sh:
  bench/peers/.venv/bin/python bench/peers/openfhe_ckks.py --log-n 16 --levels 24 --threads 2
"""

from __future__ import annotations

import argparse
import os
import tempfile

import numpy as np

import peerlib


def parse_args() -> argparse.Namespace:
    """Command-line options; names match `fhec bench ckks` so compare.py can pass them to both."""
    parser = argparse.ArgumentParser(
        description="CKKS operation benchmark through OpenFHE, JSON on stdout "
        "(same shape as `fhec bench ckks --json`).",
    )
    peerlib.add_common_arguments(parser, repeats=5, repeats_help="timed repeats per operation", scale_bits=50)
    parser.add_argument(
        "--levels",
        type=int,
        default=24,
        help="multiplicative levels, i.e. rescaling primes above the first one (default 24)",
    )
    parser.add_argument(
        "--slots", type=int, default=0, help="slots per ciphertext, a power of two <= N/2 (default N/2)"
    )
    parser.add_argument(
        "--rotation-step", type=int, default=1, help="rotation amount for `rotate` (default 1)"
    )
    parser.add_argument(
        "--hoisted",
        type=int,
        default=8,
        help="rotations (by 1..K) sharing one hoisted decomposition (default 8)",
    )
    args = parser.parse_args()
    if args.slots == 0:
        args.slots = (1 << args.log_n) // 2
    peerlib.check_common_arguments(parser, args)
    if args.hoisted < 1:
        parser.error("--hoisted must be at least 1")
    return args


class CkksBench:
    """Holds the context, keys and inputs, and measures one operation at a time."""

    def __init__(self, openfhe, args: argparse.Namespace):
        self.openfhe = openfhe
        self.args = args
        try:
            self.context = peerlib.make_ckks_context(
                openfhe,
                log_n=args.log_n,
                depth=args.levels,
                scale_bits=args.scale_bits,
                first_mod_bits=args.first_mod_bits,
                dnum=args.dnum,
                slots=args.slots,
                security=args.security,
                scaling_technique=openfhe.FIXEDMANUAL,
            )
        except peerlib.ParametersRefused as exc:
            raise SystemExit(str(exc)) from exc
        self.keys = self.context.KeyGen()
        self.context.EvalMultKeyGen(self.keys.secretKey)
        self.hoisted_indices = list(range(1, args.hoisted + 1))
        rotation_indices = sorted(set(self.hoisted_indices) | {args.rotation_step})
        self.context.EvalRotateKeyGen(self.keys.secretKey, rotation_indices)
        self.next_fresh_index = max(rotation_indices) + 1
        rng = np.random.default_rng(args.seed)
        self.x = peerlib.uniform_inputs(rng, args.slots)
        self.y = peerlib.uniform_inputs(rng, args.slots)
        self.pt_x = self.context.MakeCKKSPackedPlaintext(self.x)
        self.pt_y = self.context.MakeCKKSPackedPlaintext(self.y)
        self.ct_x = self.context.Encrypt(self.keys.publicKey, self.pt_x)
        self.ct_y = self.context.Encrypt(self.keys.publicKey, self.pt_y)

    def decrypt_values(self, ciphertext) -> np.ndarray:
        """Decrypts and returns the real parts of the slots."""
        plaintext = self.context.Decrypt(self.keys.secretKey, ciphertext)
        plaintext.SetLength(self.args.slots)
        return np.asarray(plaintext.GetRealPackedValue())

    def rotated(self, values: np.ndarray, step: int) -> np.ndarray:
        """Exact result of a left rotation by `step` slots (OpenFHE's positive index)."""
        return np.roll(values, -step)

    def measure(self, operation, expected: np.ndarray | None, output=None) -> dict:
        """Times `operation` (one warm-up, then the repeats) and measures its precision.

        `output` turns the operation's result into a ciphertext to decrypt (default: the result
        itself); with `expected` None no precision is measured.
        """
        operation()  # warm-up: OpenFHE builds some tables lazily on first use
        samples, error_batches = [], []
        for _ in range(self.args.repeats):
            seconds, result = peerlib.timed(operation)
            samples.append(seconds)
            if expected is not None:
                ciphertext = output(result) if output else result
                error_batches.append(peerlib.errors(self.decrypt_values(ciphertext), expected))
        return self.record(samples, error_batches)

    @staticmethod
    def record(samples: list[float], error_batches: list[np.ndarray]) -> dict:
        """The per-op JSON fields from timing samples and error batches."""
        entry = peerlib.Timing(samples).stats_ms()
        entry["precision_bits"] = peerlib.precision_mean_bits(error_batches) if error_batches else None
        entry["precision_min_bits"] = peerlib.precision_worst_bits(error_batches) if error_batches else None
        return entry

    def mul_relin_rescale(self) -> dict:
        """ct x ct with relinearisation, then rescale."""
        context = self.context
        return self.measure(lambda: context.Rescale(context.EvalMult(self.ct_x, self.ct_y)), self.x * self.y)

    def rotate(self) -> dict:
        """One rotation with its own key switch."""
        step = self.args.rotation_step
        return self.measure(lambda: self.context.EvalRotate(self.ct_x, step), self.rotated(self.x, step))

    def hoisted_rotate_extra(self) -> dict:
        """Cost of each extra rotation once the decomposition is shared (hoisted)."""
        context = self.context
        cyclotomic_order = 2 << self.args.log_n
        per_rotation, precompute, error_batches = [], [], []
        for repeat in range(self.args.repeats + 1):  # the first round is the warm-up
            precompute_s, digits = peerlib.timed(lambda: context.EvalFastRotationPrecompute(self.ct_x))
            rotation_s, outputs = [], []
            for index in self.hoisted_indices:
                seconds, rotated = peerlib.timed(
                    context.EvalFastRotation, self.ct_x, index, cyclotomic_order, digits
                )
                rotation_s.append(seconds)
                outputs.append((index, rotated))
            if repeat == 0:
                continue
            precompute.append(precompute_s)
            per_rotation.append(sum(rotation_s) / len(rotation_s))
            for index, rotated in outputs:
                error_batches.append(
                    peerlib.errors(self.decrypt_values(rotated), self.rotated(self.x, index))
                )
        entry = self.record(per_rotation, error_batches)
        entry["precompute_ms"] = peerlib.Timing(precompute).stats_ms()["median_ms"]
        entry["rotations_per_precompute"] = len(self.hoisted_indices)
        return entry

    def mul_plain(self) -> dict:
        """ct x pt (no rescale); precision is read after a rescale outside the timing."""
        context = self.context
        return self.measure(
            lambda: context.EvalMult(self.ct_x, self.pt_y),
            self.x * self.y,
            output=context.Rescale,
        )

    def encode(self) -> dict:
        """Encoding of `slots` reals; its precision cannot be read without encrypting."""
        entry = self.measure(lambda: self.context.MakeCKKSPackedPlaintext(self.x), None)
        entry["note"] = (
            "OpenFHE's Python API cannot decode a plaintext without decrypting it; "
            "the encoding error is part of the encrypt/decrypt figures"
        )
        return entry

    def encrypt(self) -> dict:
        """Public-key encryption; precision of the fresh ciphertext after decryption."""
        return self.measure(lambda: self.context.Encrypt(self.keys.publicKey, self.pt_x), self.x)

    def decrypt(self) -> dict:
        """Secret-key decryption, decoding included (OpenFHE's Decrypt decodes)."""
        context, secret = self.context, self.keys.secretKey

        def decrypt_once():
            plaintext = context.Decrypt(secret, self.ct_x)
            plaintext.SetLength(self.args.slots)
            return np.asarray(plaintext.GetRealPackedValue())

        decrypt_once()
        samples, error_batches = [], []
        for _ in range(self.args.repeats):
            seconds, values = peerlib.timed(decrypt_once)
            samples.append(seconds)
            error_batches.append(peerlib.errors(values, self.x))
        entry = self.record(samples, error_batches)
        entry["note"] = "includes decoding and the copy of the slots to Python"
        return entry

    def keygen_rotation(self) -> dict:
        """Generation of one rotation (Galois) key, each repeat for an index not generated yet."""
        samples = []
        for repeat in range(self.args.repeats + 1):
            index = self.next_fresh_index
            self.next_fresh_index += 1
            seconds, _ = peerlib.timed(self.context.EvalRotateKeyGen, self.keys.secretKey, [index])
            if repeat > 0:
                samples.append(seconds)
        return self.record(samples, [])

    def modulus_summary(self) -> dict:
        """Bit sizes of Q, P and QP (P measured from the relinearisation key's size)."""
        chain = peerlib.modulus_chain(self.openfhe, self.context)
        with tempfile.TemporaryDirectory(prefix="openfhe-peer-") as directory:
            path = os.path.join(directory, "relin.key")
            if not self.context.SerializeEvalMultKey(
                path, self.openfhe.BINARY, self.keys.secretKey.GetKeyTag()
            ):
                raise SystemExit("could not serialize the relinearisation key")
            key_bytes = peerlib.file_size(path)
        special_primes = peerlib.special_primes_from_key(
            key_bytes, self.args.dnum, 1 << self.args.log_n, len(chain["q"])
        )
        summary = peerlib.log_qp_summary(chain["q"], special_primes, chain["aux_prime_bits"])
        summary["relin_key_bytes"] = key_bytes
        return summary


def main() -> None:
    """Builds the context, runs every operation and prints the JSON document."""
    args = parse_args()
    run = peerlib.PeerRun(args)
    openfhe = run.openfhe
    peerlib.progress(
        f"OpenFHE {run.version}: N = 2^{args.log_n}, "
        f"{args.levels} levels, dnum {args.dnum}, {args.threads} threads"
    )
    bench = CkksBench(openfhe, args)
    ops = [
        {
            "name": "ntt",
            "median_ms": None,
            "min_ms": None,
            "max_ms": None,
            "precision_bits": None,
            "note": "OpenFHE's Python API exposes no NTT on polynomials",
        }
    ]
    for name in (
        "mul_relin_rescale",
        "rotate",
        "hoisted_rotate_extra",
        "mul_plain",
        "encode",
        "encrypt",
        "decrypt",
        "keygen_rotation",
    ):
        peerlib.progress(f"measuring {name}")
        ops.append({"name": name, **getattr(bench, name)()})
    moduli = bench.modulus_summary()
    document = {
        **run.header("ckks"),
        "params": {
            **run.params(moduli, args.levels, "FIXEDMANUAL"),
            "slots": args.slots,
            "relin_key_bytes": moduli["relin_key_bytes"],
            "op_level": "fresh ciphertexts (top of the chain)",
        },
        "ops": ops,
        **run.footer(),
    }
    peerlib.print_json(document)


if __name__ == "__main__":
    main()
