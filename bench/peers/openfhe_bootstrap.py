#!/usr/bin/env python3
"""OpenFHE peer of `fhec bench bootstrap --json`: CKKS bootstrapping time, precision and memory.

Builds an OpenFHE CKKS context whose depth is the bootstrapping depth for the level budget plus
--levels-after levels for the circuit, generates the bootstrapping keys for --slots slots, and
bootstraps a ciphertext holding values uniform in [-1, 1] --repeats times. Prints one JSON
document in the shape of `fhec bench bootstrap --json` (DESIGN §10), plus "peer",
"openfhe_version" and a few OpenFHE-specific fields.

Fields:
  time_s          median / min / max seconds of one EvalBootstrap call
  precision_bits  mean = -log2(mean |error|), min = -log2(max |error|) (the worst slot), against
                  the input values, over all slots of all repeats (real parts; inputs are real)
  levels_in       levels the input ciphertext has left when it is bootstrapped (OpenFHE's
                  examples, and this script, encrypt it one level above the bottom of the chain)
  levels_out      levels left to the circuit after bootstrapping: depth minus the levels the
                  output has consumed, counting a pending rescale (FLEXIBLEAUTO) as consumed
  eval_key_bytes  bytes of the relinearisation key plus all automorphism keys (rotations and
                  conjugation for bootstrapping), serialized in OpenFHE's binary format to a temp
                  directory; OpenFHE stores both halves of each key (no seed compression)
  keygen_s        seconds of EvalBootstrapKeyGen + EvalMultKeyGen (setup_s, the precomputation of
                  the encoded DFT matrices by EvalBootstrapSetup, is reported apart)
  peak_rss_bytes  ru_maxrss of the process at the end (KiB from the kernel, converted to bytes)

Run it with the venv made by setup.sh; at N = 2^16 it needs minutes and about 10 GB of memory:
  bench/peers/.venv/bin/python bench/peers/openfhe_bootstrap.py --slots 16384 --threads 2
"""

from __future__ import annotations

import argparse
import os
import tempfile

import numpy as np

import peerlib


def parse_level_budget(text: str) -> list[int]:
    """Parses "3,3" into [3, 3] (levels for CoeffToSlot, then SlotToCoeff)."""
    try:
        budget = [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"level budget {text!r} is not two integers like 3,3") from None
    if len(budget) != 2 or min(budget) < 1:
        raise argparse.ArgumentTypeError(f"level budget {text!r} must be two positive integers like 3,3")
    return budget


def parse_args() -> argparse.Namespace:
    """Command-line options; names match `fhec bench bootstrap` so compare.py can pass them to both."""
    parser = argparse.ArgumentParser(
        description="CKKS bootstrapping benchmark through OpenFHE, JSON on stdout "
        "(same shape as `fhec bench bootstrap --json`).",
    )
    peerlib.add_common_arguments(parser, repeats=2, repeats_help="timed bootstraps")
    parser.add_argument(
        "--slots", type=int, default=1 << 14, help="slots bootstrapped, a power of two <= N/2 (default 16384)"
    )
    parser.add_argument(
        "--level-budget",
        type=parse_level_budget,
        default=[3, 3],
        help="levels spent by CoeffToSlot and SlotToCoeff, e.g. 3,3 (default)",
    )
    parser.add_argument(
        "--levels-after",
        type=int,
        default=4,
        help="levels left to the circuit after bootstrapping; the context depth is the "
        "bootstrapping depth plus this (default 4, the most that fits 128-bit security at "
        "N = 2^16 with 50-bit scale and dnum 3)",
    )
    args = parser.parse_args()
    peerlib.check_common_arguments(parser, args)
    if args.levels_after < 0:
        parser.error("--levels-after must be non-negative")
    return args


def eval_key_bytes(openfhe, context, key_tag: str) -> dict:
    """Serializes the relinearisation and automorphism keys to a temp dir and sums their sizes."""
    with tempfile.TemporaryDirectory(prefix="openfhe-peer-keys-") as directory:
        mult_path = os.path.join(directory, "mult.key")
        automorphism_path = os.path.join(directory, "automorphism.key")
        if not context.SerializeEvalMultKey(mult_path, openfhe.BINARY, key_tag):
            raise SystemExit("could not serialize the relinearisation key")
        if not context.SerializeEvalAutomorphismKey(automorphism_path, openfhe.BINARY, key_tag):
            raise SystemExit("could not serialize the bootstrapping automorphism keys")
        mult = peerlib.file_size(mult_path)
        automorphism = peerlib.file_size(automorphism_path)
    return {"mult": mult, "automorphism": automorphism, "total": mult + automorphism}


def current_rss_bytes() -> int:
    """Resident set size now (VmRSS), to show what the keys and precomputations hold."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return -1


def main() -> None:
    """Sets up bootstrapping, runs it --repeats times and prints the JSON document."""
    args = parse_args()
    run = peerlib.PeerRun(args)
    openfhe = run.openfhe
    bootstrap_depth = openfhe.CryptoContext.GetBootstrapDepth(args.level_budget, openfhe.UNIFORM_TERNARY)
    depth = bootstrap_depth + args.levels_after
    peerlib.progress(
        f"OpenFHE {run.version}: N = 2^{args.log_n}, {args.slots} slots, "
        f"level budget {args.level_budget}, depth {bootstrap_depth} + {args.levels_after}, "
        f"dnum {args.dnum}, {args.threads} threads"
    )
    context = peerlib.make_ckks_context(
        openfhe,
        log_n=args.log_n,
        depth=depth,
        scale_bits=args.scale_bits,
        first_mod_bits=args.first_mod_bits,
        dnum=args.dnum,
        slots=args.slots,
        security=args.security,
        scaling_technique=openfhe.FLEXIBLEAUTO,
        bootstrapping=True,
    )
    chain = peerlib.modulus_chain(openfhe, context)
    moduli = peerlib.log_qp_summary(chain["q"], args.dnum, chain["aux_prime_bits"])

    peerlib.progress("EvalBootstrapSetup (DFT matrices)")
    setup_s, _ = peerlib.timed(lambda: context.EvalBootstrapSetup(args.level_budget, [0, 0], args.slots))
    keys = context.KeyGen()
    peerlib.progress("key generation (relinearisation + bootstrapping keys)")

    def generate_keys():
        context.EvalMultKeyGen(keys.secretKey)
        context.EvalBootstrapKeyGen(keys.secretKey, args.slots)

    keygen_s, _ = peerlib.timed(generate_keys)
    rss_after_keygen = current_rss_bytes()
    key_tag = keys.secretKey.GetKeyTag()
    automorphism_keys = len(context.GetExistingEvalAutomorphismKeyIndices(key_tag))

    rng = np.random.default_rng(args.seed)
    values = peerlib.uniform_inputs(rng, args.slots)
    input_level = depth - 1  # one level left, as in OpenFHE's bootstrapping examples
    plaintext = context.MakeCKKSPackedPlaintext(values, 1, input_level, None, args.slots)
    ciphertext = context.Encrypt(keys.publicKey, plaintext)
    levels_in = depth - ciphertext.GetLevel()

    samples, error_batches, levels_out = [], [], None
    for repeat in range(args.repeats):
        peerlib.progress(f"bootstrap {repeat + 1}/{args.repeats}")
        seconds, refreshed = peerlib.timed(lambda: context.EvalBootstrap(ciphertext))
        samples.append(seconds)
        consumed = refreshed.GetLevel() + refreshed.GetNoiseScaleDeg() - 1
        levels_out = depth - consumed
        decrypted = context.Decrypt(keys.secretKey, refreshed)
        decrypted.SetLength(args.slots)
        error_batches.append(peerlib.errors(decrypted.GetRealPackedValue(), values))

    peerlib.progress("serializing evaluation keys to measure their size")
    key_sizes = eval_key_bytes(openfhe, context, key_tag)
    document = {
        **run.header("bootstrap"),
        "slots": args.slots,
        "params": {
            **run.params(moduli, depth, "FLEXIBLEAUTO"),
            "bootstrap_depth": bootstrap_depth,
            "level_budget": args.level_budget,
        },
        "time_s": peerlib.Timing(samples).stats_s(),
        "precision_bits": {
            "mean": peerlib.precision_mean_bits(error_batches),
            "min": peerlib.precision_worst_bits(error_batches),
        },
        "levels_in": levels_in,
        "levels_out": levels_out,
        "eval_key_bytes": key_sizes["total"],
        "eval_key_bytes_detail": {**key_sizes, "automorphism_keys": automorphism_keys},
        "keygen_s": round(keygen_s, 3),
        "setup_s": round(setup_s, 3),
        "rss_after_keygen_bytes": rss_after_keygen,
        **run.footer(),
    }
    peerlib.print_json(document)


if __name__ == "__main__":
    main()
