#!/usr/bin/env python3
"""OpenFHE peer of `fhec bench bootstrap --json`: CKKS bootstrapping time, precision and memory.

Builds an OpenFHE CKKS context whose depth is the bootstrapping depth for the level budget plus
--levels-after levels for the circuit, generates the bootstrapping keys for --slots slots, and
bootstraps a ciphertext holding the --input slot vector (default: values uniform in [-1, 1])
--repeats times. Prints one JSON
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
                  the encoded DFT matrices by EvalBootstrapPrecompute, is reported apart)
  peak_rss_bytes  ru_maxrss of the process at the end (KiB from the kernel, converted to bytes)

Run it with the venv made by setup.sh; at N = 2^16 it needs minutes and about 10 GB of memory:
  bench/peers/.venv/bin/python bench/peers/openfhe_bootstrap.py --slots 16384 --threads 2
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

import peerlib

# Levels after bootstrapping when the security check is off and nothing bounds the depth.
INSECURE_LEVELS_AFTER = 4
# Upper end of the search for the largest accepted --levels-after.
MAX_LEVELS_AFTER = 40


def parse_level_budget(text: str) -> list[int]:
    """Parses "3,3" into [3, 3] (levels for CoeffToSlot, then SlotToCoeff)."""
    try:
        budget = [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"level budget {text!r} is not two integers like 3,3") from None
    if len(budget) != 2 or min(budget) < 1:
        raise argparse.ArgumentTypeError(f"level budget {text!r} must be two positive integers like 3,3")
    return budget


INPUT_KINDS = ("uniform", "constant", "biased", "activation")

# The tensor `fhec bench bootstrap --input activation` builds in (bench/inputs/README.md).
PRE_RELU = Path(__file__).resolve().parent.parent / "inputs" / "resnet20_pre_relu.i16"


def input_values(kind: str, rng: np.random.Generator, slots: int) -> np.ndarray:
    """The `slots` real values of --input `kind`, as fhec's benchmark builds them."""
    if kind == "uniform":
        return peerlib.uniform_inputs(rng, slots)
    if kind == "constant":
        return np.full(slots, 0.9)
    if kind == "biased":
        return 0.8 + 0.1 * rng.uniform(-1.0, 1.0, size=slots)
    tensor = np.fromfile(PRE_RELU, dtype="<i2").astype(np.float64) / 32768.0
    if slots > tensor.size:
        sys.exit(f"--input activation: {PRE_RELU} holds {tensor.size} slots, not {slots}")
    return tensor[:slots]


def parse_args() -> argparse.Namespace:
    """Command-line options; names match `fhec bench bootstrap` so compare.py can pass them to both."""
    parser = argparse.ArgumentParser(
        description="CKKS bootstrapping benchmark through OpenFHE, JSON on stdout "
        "(same shape as `fhec bench bootstrap --json`).",
    )
    peerlib.add_common_arguments(
        parser,
        repeats=2,
        repeats_help="timed bootstraps",
        # 52, not 50: OpenFHE's bootstrapping needs q_0 within its correction factor (8 bits at
        # N = 2^16 and 2^14 slots) of the scale, and the first prime has 60 bits.
        scale_bits=52,
    )
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
        default=None,
        help="levels left to the circuit after bootstrapping; the context depth is the "
        "bootstrapping depth plus this (default: the most that OpenFHE accepts at 128-bit "
        f"security; {INSECURE_LEVELS_AFTER} with --security none)",
    )
    parser.add_argument(
        "--correction-factor",
        type=int,
        default=0,
        help="OpenFHE's bootstrapping correction factor in bits (default 0: OpenFHE's own choice); "
        "it must be at least first-mod-bits minus scale-bits",
    )
    parser.add_argument(
        "--input",
        choices=INPUT_KINDS,
        default="uniform",
        help="slot vector bootstrapped, as `fhec bench bootstrap --input`: uniform in [-1, 1] "
        "(default), constant (every slot 0.9), biased (uniform in [0.7, 0.9]) or activation "
        "(the ResNet-20 pre-ReLU tensor of bench/inputs/)",
    )
    args = parser.parse_args()
    peerlib.check_common_arguments(parser, args)
    if args.levels_after is not None and args.levels_after < 0:
        parser.error("--levels-after must be non-negative")
    if args.correction_factor < 0:
        parser.error("--correction-factor must be non-negative")
    return args


def build_context(openfhe, args: argparse.Namespace, bootstrap_depth: int):
    """The bootstrapping context and the levels it leaves after bootstrapping.

    With --levels-after given, exactly that; otherwise the largest count for which OpenFHE
    accepts the parameters at the security level (it refuses a log QP above the bound).
    """

    def attempt(levels_after: int):
        return peerlib.make_ckks_context(
            openfhe,
            log_n=args.log_n,
            depth=bootstrap_depth + levels_after,
            scale_bits=args.scale_bits,
            first_mod_bits=args.first_mod_bits,
            dnum=args.dnum,
            slots=args.slots,
            security=args.security,
            scaling_technique=openfhe.FLEXIBLEAUTO,
            bootstrapping=True,
        )

    wanted = args.levels_after
    if wanted is None and args.security == "none":
        wanted = INSECURE_LEVELS_AFTER
    try:
        if wanted is not None:
            return attempt(wanted), wanted
        best = None
        for levels_after in range(MAX_LEVELS_AFTER + 1):
            try:
                best = (attempt(levels_after), levels_after)
            except peerlib.ParametersRefused:
                if best is None:
                    raise
                break
        return best
    except peerlib.ParametersRefused as exc:
        raise SystemExit(str(exc)) from exc


def check_correction_factor(context, args: argparse.Namespace, first_modulus: int) -> int:
    """Fails before key generation when OpenFHE's EvalBootstrap would refuse these moduli.

    OpenFHE (64-bit words) requires round(log2(q_0 / 2^scale_bits)) to be at most the
    correction factor that EvalBootstrapSetup chose (it depends on N and the slot count) or
    that --correction-factor set; otherwise EvalBootstrap throws, after minutes of
    precomputation and key generation. Returns the factor in use.
    """
    factor = context.GetCKKSBootCorrectionFactor()
    gap = round(math.log2(first_modulus) - args.scale_bits)
    if gap > factor:
        raise SystemExit(
            f"OpenFHE cannot bootstrap with a first modulus {gap} bits above the scale: its "
            f"correction factor here is {factor} bits. Use a larger --scale-bits, a smaller "
            f"--first-mod-bits, or --correction-factor {gap} (or more)"
        )
    return factor


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
    context, levels_after = build_context(openfhe, args, bootstrap_depth)
    depth = bootstrap_depth + levels_after
    peerlib.progress(
        f"OpenFHE {run.version}: N = 2^{args.log_n}, {args.slots} slots, "
        f"level budget {args.level_budget}, depth {bootstrap_depth} + {levels_after}, "
        f"dnum {args.dnum}, {args.threads} threads"
    )
    chain = peerlib.modulus_chain(openfhe, context)

    # Set up without the expensive precomputation first, so that a correction factor OpenFHE
    # would refuse in EvalBootstrap is reported before minutes of work.
    context.EvalBootstrapSetup(args.level_budget, [0, 0], args.slots, args.correction_factor, False)
    correction_factor = check_correction_factor(context, args, chain["q"][0])
    peerlib.progress("EvalBootstrapPrecompute (encoded DFT matrices)")
    setup_s, _ = peerlib.timed(context.EvalBootstrapPrecompute, args.slots)
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
    values = input_values(args.input, rng, args.slots)
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
    special_primes = peerlib.special_primes_from_key(
        key_sizes["mult"], args.dnum, 1 << args.log_n, len(chain["q"])
    )
    moduli = peerlib.log_qp_summary(chain["q"], special_primes, chain["aux_prime_bits"])
    document = {
        **run.header("bootstrap"),
        "slots": args.slots,
        "input": args.input,
        "params": {
            **run.params(moduli, depth, "FLEXIBLEAUTO"),
            "bootstrap_depth": bootstrap_depth,
            "level_budget": args.level_budget,
            "correction_factor": correction_factor,
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
