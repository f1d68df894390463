"""Shared helpers for the OpenFHE peer benchmarks in bench/peers/.

The peer scripts measure OpenFHE (through the `openfhe` PyPI package) on the same work as
`fhec bench ...` and print JSON in the same shapes (DESIGN §10), so that `compare.py` can put the
two side by side. This module holds what both scripts need:

* thread control: OpenMP reads OMP_NUM_THREADS once, when the runtime starts, so the variable is
  set *before* `openfhe` is imported, and then checked against what the loaded libgomp reports
  and against the number of threads the process really runs;
* timing statistics (median / min / max over repeats);
* precision in bits, as DESIGN §10 defines it: -log2(mean |error|) and -log2(max |error|) over the
  slots, against the exact result;
* the size in bits of OpenFHE's modulus chain: Q read from the serialized crypto context (the
  Python API returns the modulus only as a float, inf past 2^1024), P measured from the size of
  the relinearisation key;
* peak resident memory.
"""

from __future__ import annotations

import argparse
import ctypes
import ctypes.util
import datetime
import json
import math
import os
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np


def default_threads() -> int:
    """Thread count used when --threads is not given: every core this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def add_common_arguments(
    parser: argparse.ArgumentParser, repeats: int, repeats_help: str, scale_bits: int
) -> None:
    """Adds the options both peer scripts take, named as `fhec bench` names them."""
    parser.add_argument("--log-n", type=int, default=16, help="log2 of the ring degree N (default 16)")
    parser.add_argument(
        "--scale-bits",
        type=int,
        default=scale_bits,
        help=f"bits of the scaling primes (default {scale_bits})",
    )
    parser.add_argument(
        "--first-mod-bits", type=int, default=60, help="bits of the first (base) prime (default 60)"
    )
    parser.add_argument("--dnum", type=int, default=3, help="key-switching digits (default 3)")
    parser.add_argument(
        "--threads",
        type=int,
        default=default_threads(),
        help="OpenMP threads (default: all cores this process may use)",
    )
    parser.add_argument("--repeats", type=int, default=repeats, help=f"{repeats_help} (default {repeats})")
    parser.add_argument(
        "--security",
        choices=SECURITY_CHOICES,
        default="128",
        help='"128" = HEStd_128_classic (default); "none" = no check, for quick tests at small N',
    )
    parser.add_argument("--seed", type=int, default=2024, help="seed of the input values (default 2024)")
    parser.add_argument(
        "--json", action="store_true", help="accepted for symmetry with fhec; output is always JSON"
    )


def check_common_arguments(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Rejects slot counts that are not a power of two up to N/2, and empty repeat counts."""
    half = (1 << args.log_n) // 2
    if args.slots < 1 or args.slots > half or args.slots & (args.slots - 1):
        parser.error(f"--slots must be a power of two between 1 and N/2 = {half}")
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    if args.threads < 1:
        parser.error("--threads must be at least 1")


class PeerRun:
    """One benchmark process: imports openfhe with the thread count, and frames the JSON.

    Records what the thread check and the load report need before openfhe starts any thread,
    then builds the fields every peer document shares (`header`, `params`, `footer`).
    """

    def __init__(self, args: argparse.Namespace):
        self.args = args
        self.threads_before = process_thread_count()
        self.load_at_start = load_average()
        self.started = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        self.openfhe = import_openfhe_with_threads(args.threads)
        self.version = openfhe_version(self.openfhe)

    def header(self, bench: str) -> dict:
        """The leading fields; checks the thread count, so call it after the measured work."""
        return {
            "bench": bench,
            "peer": "openfhe",
            "openfhe_version": self.version,
            "date_utc": self.started,
            "threads": self.args.threads,
            "thread_check": verify_threads(self.args.threads, self.threads_before, process_thread_count()),
            "repeats": self.args.repeats,
        }

    def params(self, moduli: dict, levels: int, scaling_technique: str) -> dict:
        """The "params" fields both benchmarks share (DESIGN §10 names first)."""
        return {
            "log_n": self.args.log_n,
            "log_qp": moduli["log_qp"],
            "levels": levels,
            "dnum": self.args.dnum,
            "security": security_label(self.args.security),
            "log_scale": self.args.scale_bits,
            "first_mod_bits": self.args.first_mod_bits,
            "log_q": moduli["log_q"],
            "q_moduli_bits": moduli["q_moduli_bits"],
            "special_primes": moduli["special_primes"],
            "special_prime_bits": moduli["special_prime_bits"],
            "secret": "uniform ternary",
            "scaling_technique": scaling_technique,
        }

    def footer(self) -> dict:
        """The trailing fields: memory, and how loaded the shared machine was."""
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return {
            "peak_rss_bytes": peak_rss_bytes(),
            # CPU time next to wall time shows how much of the cores the process really got.
            "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 2),
            "load_average": {"start": self.load_at_start, "end": load_average()},
            "cores": os.cpu_count(),
        }


def import_openfhe_with_threads(threads: int):
    """Sets OMP_NUM_THREADS to `threads`, imports `openfhe` and returns the module.

    Fails if `openfhe` was imported earlier in this process, because OpenMP would then already
    have fixed its thread count and the setting would silently not apply.
    """
    if threads < 1:
        raise SystemExit(f"--threads must be at least 1, got {threads}")
    if "openfhe" in sys.modules:
        raise SystemExit("internal error: openfhe imported before OMP_NUM_THREADS was set")
    os.environ["OMP_NUM_THREADS"] = str(threads)
    try:
        import openfhe  # the import must follow the environment change
    except ImportError as exc:
        raise SystemExit(
            f"cannot import openfhe ({exc}); run bench/peers/setup.sh and use bench/peers/.venv/bin/python"
        ) from exc
    return openfhe


def openmp_max_threads() -> int | None:
    """What the OpenMP runtime loaded by openfhe reports as its thread count (None if unknown)."""
    for name in ("libgomp.so.1", ctypes.util.find_library("gomp")):
        if not name:
            continue
        try:
            lib = ctypes.CDLL(name, mode=ctypes.RTLD_GLOBAL)
            lib.omp_get_max_threads.restype = ctypes.c_int
            return int(lib.omp_get_max_threads())
        except (OSError, AttributeError):
            continue
    return None


def process_thread_count() -> int:
    """Number of threads this process runs now (main thread plus OpenMP workers)."""
    try:
        return len(os.listdir("/proc/self/task"))
    except FileNotFoundError:
        return -1


def verify_threads(requested: int, threads_before_openfhe: int, threads_after_work: int) -> dict:
    """Checks that OpenMP took the requested thread count; exits with a clear message if not.

    Two independent checks: the OpenMP runtime loaded by openfhe must report `requested` as its
    thread count, and the process may have grown by at most `requested - 1` threads (the OpenMP
    workers; the main thread is the first of the team) between the import of openfhe and the
    end of the measured, parallel work.
    """
    reported = openmp_max_threads()
    if reported is not None and reported != requested:
        raise SystemExit(
            f"OpenMP reports {reported} threads but {requested} were requested: "
            "OMP_NUM_THREADS did not take effect"
        )
    workers = threads_after_work - threads_before_openfhe
    if workers > requested - 1:
        raise SystemExit(
            f"OpenFHE started {workers} worker threads, more than the {requested - 1} that "
            f"--threads {requested} allows"
        )
    return {
        "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
        "omp_get_max_threads": reported,
        "openmp_workers_started": workers,
        # Spinning OpenMP workers slow down badly on a machine loaded by other processes;
        # record the policy so that figures taken with and without it are told apart.
        "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY"),
        "gomp_spincount": os.environ.get("GOMP_SPINCOUNT"),
    }


def load_average() -> list[float]:
    """1-, 5- and 15-minute load averages, recorded because the machine is shared."""
    return [round(value, 2) for value in os.getloadavg()]


@dataclass
class Timing:
    """Wall-clock samples of one operation, in seconds."""

    samples: list[float]

    def stats_ms(self) -> dict:
        """Median, min and max in milliseconds, as `fhec bench ckks --json` reports them."""
        return {
            "median_ms": round(statistics.median(self.samples) * 1e3, 4),
            "min_ms": round(min(self.samples) * 1e3, 4),
            "max_ms": round(max(self.samples) * 1e3, 4),
        }

    def stats_s(self) -> dict:
        """Median, min and max in seconds, as `fhec bench bootstrap --json` reports them."""
        return {
            "median": round(statistics.median(self.samples), 4),
            "min": round(min(self.samples), 4),
            "max": round(max(self.samples), 4),
        }


def timed(function: Callable[..., object], *args) -> tuple[float, object]:
    """Runs `function(*args)` once and returns (elapsed seconds, its result)."""
    start = time.perf_counter()
    result = function(*args)
    return time.perf_counter() - start, result


def errors(got: Sequence[float], expected: np.ndarray) -> np.ndarray:
    """Absolute error per slot between decrypted values and the exact result."""
    got_array = np.asarray(got, dtype=np.float64)[: len(expected)]
    if got_array.shape != expected.shape:
        raise ValueError(f"decrypted {got_array.shape[0]} slots, expected {expected.shape[0]}")
    return np.abs(got_array - expected)


def bits(error: float) -> float | None:
    """-log2(error), rounded to 0.01 bit; None for an exact result (no finite bit count)."""
    if error <= 0.0:
        return None
    return round(-math.log2(error), 2)


def precision_mean_bits(error_batches: Iterable[np.ndarray]) -> float | None:
    """-log2 of the mean absolute error over all slots of all batches (DESIGN §10 "mean")."""
    all_errors = np.concatenate([np.ravel(batch) for batch in error_batches])
    return bits(float(np.mean(all_errors)))


def precision_worst_bits(error_batches: Iterable[np.ndarray]) -> float | None:
    """-log2 of the largest absolute error over all slots (DESIGN §10 "min", the worst slot)."""
    all_errors = np.concatenate([np.ravel(batch) for batch in error_batches])
    return bits(float(np.max(all_errors)))


def uniform_inputs(rng: np.random.Generator, slots: int) -> np.ndarray:
    """`slots` values drawn uniformly from [-1, 1], the input distribution of every benchmark."""
    return rng.uniform(-1.0, 1.0, size=slots)


def openfhe_version(openfhe) -> str:
    """Version of the installed openfhe package (e.g. "1.6.1.0")."""
    return getattr(openfhe, "__version__", "unknown")


def _find_key(tree, key: str):
    """Yields every value stored under `key` anywhere in a JSON tree."""
    if isinstance(tree, dict):
        for name, value in tree.items():
            if name == key:
                yield value
            yield from _find_key(value, key)
    elif isinstance(tree, list):
        for value in tree:
            yield from _find_key(value, key)


def modulus_chain(openfhe, context) -> dict:
    """Reads the ciphertext moduli q_i and the special-prime bit size from the crypto context.

    The Python API returns the modulus Q as a float, which is inf at these sizes, so the context
    is serialized to JSON and the tower moduli are read from it. The special primes P are not
    serialized; the context only stores their bit size (key "ab", the auxiliary prime size).
    Returns {"q": [q_0, q_1, ...], "aux_prime_bits": b}.
    """
    with tempfile.TemporaryDirectory(prefix="openfhe-peer-") as directory:
        path = os.path.join(directory, "context.json")
        if not openfhe.SerializeToFile(path, context, openfhe.JSON):
            raise SystemExit("could not serialize the OpenFHE crypto context to read its moduli")
        with open(path, encoding="utf-8") as handle:
            tree = json.load(handle)
    element_params = next(_find_key(tree, "elp"), None)
    towers = next(_find_key(element_params, "p"), None) if element_params else None
    if not towers:
        raise SystemExit("serialized OpenFHE context has no tower parameters ('elp' / 'p')")
    moduli = []
    for tower in towers:
        value = next(_find_key(tower, "cm"), None)
        if not value or "v" not in value:
            raise SystemExit("serialized OpenFHE context has a tower without a modulus")
        moduli.append(int(value["v"]))
    aux_bits = next(_find_key(tree, "ab"), None)
    return {"q": moduli, "aux_prime_bits": aux_bits}


def special_primes_from_key(relin_key_bytes: int, dnum: int, ring_degree: int, q_count: int) -> int:
    """Number of special primes P, measured from the size of the serialized relinearisation key.

    OpenFHE neither serializes P nor exposes it in Python, and the rule that sizes it has changed
    between versions (1.6.1 sometimes takes one prime more than ceil(largest digit bits / prime
    bits)), so it is measured: a hybrid key-switching key holds 2 x dnum polynomials over Q*P of
    `ring_degree` 64-bit words per tower, and serialization adds only a few kilobytes, so the
    size divided by 2 x dnum x N x 8 rounds to |Q| + |P|.
    """
    towers = round(relin_key_bytes / (2 * dnum * ring_degree * 8))
    if towers <= q_count:
        raise SystemExit(
            f"the relinearisation key ({relin_key_bytes} bytes) holds no more than the {q_count} "
            "ciphertext towers: cannot tell the special primes"
        )
    return towers - q_count


def log_qp_summary(q_moduli: Sequence[int], special_primes: int, aux_prime_bits: int) -> dict:
    """Bit sizes of Q, P and QP.

    Q's size is exact (product of the serialized moduli). OpenFHE takes the special primes as the
    largest primes below 2^aux_prime_bits that fit the ring, so log2 P is aux_prime_bits per prime
    up to a negligible fraction (an upper bound by less than 0.001 bit at these sizes).
    """
    log_q = math.log2(math.prod(q_moduli))
    log_p = special_primes * aux_prime_bits
    return {
        "log_q": round(log_q, 2),
        "q_moduli_bits": [modulus.bit_length() for modulus in q_moduli],
        "special_primes": special_primes,
        "special_prime_bits": aux_prime_bits,
        "log_p": log_p,
        "log_qp": round(log_q + log_p, 2),
    }


SECURITY_CHOICES = ("128", "none")


def security_level(openfhe, choice: str):
    """OpenFHE security level for a --security choice ("128" or "none" for tests)."""
    if choice == "128":
        return openfhe.HEStd_128_classic
    if choice == "none":
        return openfhe.HEStd_NotSet
    raise SystemExit(f"unknown --security {choice!r}; expected one of {SECURITY_CHOICES}")


def security_label(choice: str) -> str:
    """The "security" value of DESIGN §10's params: "128-bit" or "insecure"."""
    return "128-bit" if choice == "128" else "insecure"


class ParametersRefused(Exception):
    """OpenFHE would not build a context with the requested parameters."""


def make_ckks_context(
    openfhe,
    *,
    log_n: int,
    depth: int,
    scale_bits: int,
    first_mod_bits: int,
    dnum: int,
    slots: int,
    security: str,
    scaling_technique,
    bootstrapping: bool = False,
):
    """Creates an OpenFHE CKKS context with hybrid key switching and the features enabled.

    Raises `ParametersRefused` with one clear line naming the parameters when OpenFHE refuses
    them (e.g. above the 128-bit bound for the ring degree).
    """
    params = openfhe.CCParamsCKKSRNS()
    params.SetRingDim(1 << log_n)
    params.SetMultiplicativeDepth(depth)
    params.SetScalingModSize(scale_bits)
    params.SetFirstModSize(first_mod_bits)
    params.SetNumLargeDigits(dnum)
    params.SetKeySwitchTechnique(openfhe.HYBRID)
    params.SetBatchSize(slots)
    params.SetSecurityLevel(security_level(openfhe, security))
    params.SetScalingTechnique(scaling_technique)
    params.SetSecretKeyDist(openfhe.UNIFORM_TERNARY)
    try:
        context = openfhe.GenCryptoContext(params)
    except Exception as exc:  # OpenFHE raises plain RuntimeError with its message
        raise ParametersRefused(
            f"OpenFHE refused the parameters (log N {log_n}, depth {depth}, scale {scale_bits} "
            f"bits, first modulus {first_mod_bits} bits, dnum {dnum}, security {security}): "
            f"{exc}"
        ) from exc
    features = [openfhe.PKE, openfhe.KEYSWITCH, openfhe.LEVELEDSHE]
    if bootstrapping:
        features += [openfhe.ADVANCEDSHE, openfhe.FHE]
    for feature in features:
        context.Enable(feature)
    return context


def peak_rss_bytes() -> int:
    """Peak resident set size of this process so far (ru_maxrss is in KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def file_size(path: str) -> int:
    """Size of a file in bytes."""
    return os.path.getsize(path)


def print_json(document: dict) -> None:
    """Prints the result document on stdout, one JSON object, nothing else."""
    json.dump(document, sys.stdout, indent=2)
    sys.stdout.write("\n")


def progress(message: str) -> None:
    """A progress line on stderr (stdout carries only the JSON)."""
    print(f"[openfhe-peer] {message}", file=sys.stderr, flush=True)
