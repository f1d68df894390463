#!/usr/bin/env python3
"""Runs `fhec bench <kind>` and its OpenFHE peer with the same parameters, and compares them.

Both benchmarks run one after the other in the same invocation (never at the same time: they
would compete for the cores), with the same ring degree, moduli sizes, dnum, slots and thread
count (a parameter flag that `fhec bench <kind> --help` does not list goes to OpenFHE only and
is named under the table, and the parameters both tools echo are compared). The result is a
table per operation with both figures and fhec/openfhe: a ratio for costs (time, bytes; below 1
means fhec is cheaper) and a difference for qualities (bits of precision, levels; above 0 means
fhec is better).

  compare.py --fhec target/release/fhec ckks --log-n 16 --levels 24 --threads 2
  compare.py --fhec target/release/fhec bootstrap --slots 16384 --threads 2 --markdown
  compare.py --render merged.json --markdown      (re-render a result saved with --json)
  compare.py --render openfhe.json                (one tool's saved result, other side empty)

Output: a plain table (default), a Markdown table for docs/benchmarks.md (--markdown), or the
merged JSON of both runs and the rows (--json).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
PEER_SCRIPTS = {"ckks": HERE / "openfhe_ckks.py", "bootstrap": HERE / "openfhe_bootstrap.py"}
DEFAULT_PYTHON = HERE / ".venv" / "bin" / "python"

# Parameters passed identically to fhec and to the OpenFHE script, per bench kind:
# (flag, type, default, help). None as default means "let each tool use its own default".
SHARED_FLAGS = {
    "ckks": [
        ("--log-n", int, 16, "log2 of the ring degree"),
        ("--levels", int, 24, "multiplicative levels"),
        ("--scale-bits", int, 50, "bits of the scaling primes"),
        ("--first-mod-bits", int, 60, "bits of the first prime"),
        ("--dnum", int, 3, "key-switching digits"),
        ("--slots", int, None, "slots per ciphertext (default N/2)"),
        ("--repeats", int, 5, "timed repeats per operation"),
        ("--hoisted", int, 8, "rotations sharing one hoisted decomposition"),
    ],
    "bootstrap": [
        ("--log-n", int, 16, "log2 of the ring degree"),
        ("--slots", int, 1 << 14, "slots bootstrapped"),
        ("--level-budget", str, "3,3", "levels of CoeffToSlot,SlotToCoeff"),
        ("--levels-after", int, None, "levels left to the circuit (default: each tool's own)"),
        ("--scale-bits", int, 52, "bits of the scaling primes"),
        ("--first-mod-bits", int, 60, "bits of the first prime"),
        ("--dnum", int, 3, "key-switching digits"),
        ("--repeats", int, 2, "timed bootstraps"),
        ("--input", str, "uniform", "slot vector bootstrapped: uniform, constant, biased or activation"),
    ],
}

# Rows of the bootstrap table: (label, path in the JSON document, "cost" or "quality").
BOOTSTRAP_ROWS = [
    ("time (s, median)", ("time_s", "median"), "cost"),
    ("time (s, min)", ("time_s", "min"), "cost"),
    ("precision (bits, mean)", ("precision_bits", "mean"), "quality"),
    ("precision (bits, worst slot)", ("precision_bits", "min"), "quality"),
    ("levels left after", ("levels_out",), "quality"),
    ("evaluation keys (bytes)", ("eval_key_bytes",), "cost"),
    ("key generation (s)", ("keygen_s",), "cost"),
    ("peak RSS (bytes)", ("peak_rss_bytes",), "cost"),
]


class CompareError(Exception):
    """A failure to report as one clear line (missing binary, missing command, bad output)."""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command line: the fhec binary, output format, then the bench kind and its parameters."""
    parser = argparse.ArgumentParser(
        description="Run fhec's benchmark and the OpenFHE peer with equal parameters and compare.",
    )
    parser.add_argument("--fhec", help="path of the fhec binary (e.g. target/release/fhec)")
    parser.add_argument(
        "--python",
        default=str(DEFAULT_PYTHON),
        help="Python 3.10 with openfhe (default: bench/peers/.venv/bin/python, made by setup.sh)",
    )
    parser.add_argument(
        "--fhec-arg",
        action="append",
        default=[],
        metavar="ARG",
        help="extra argument for fhec only (repeatable), e.g. --fhec-arg=--preset",
    )
    output = parser.add_mutually_exclusive_group()
    output.add_argument("--markdown", action="store_true", help="print a Markdown table")
    output.add_argument("--json", action="store_true", help="print the merged JSON")
    parser.add_argument(
        "--render",
        metavar="MERGED_JSON",
        help="do not run anything: render a merged JSON saved with --json, or one tool's raw JSON",
    )
    kinds = parser.add_subparsers(dest="kind", metavar="{ckks,bootstrap}")
    for kind, flags in SHARED_FLAGS.items():
        sub = kinds.add_parser(kind, help=f"compare `fhec bench {kind}` with OpenFHE")
        sub.add_argument(
            "--threads", type=int, default=os.cpu_count() or 1, help="threads for both (default: all cores)"
        )
        for flag, kind_type, default, help_text in flags:
            shown = help_text if default is None else f"{help_text} (default {default})"
            sub.add_argument(flag, type=kind_type, default=default, help=shown)
    args = parser.parse_args(argv)
    if args.render is None and (args.kind is None or args.fhec is None):
        parser.error("give --fhec PATH and a bench kind (ckks or bootstrap), or --render FILE")
    return args


def shared_arguments(args: argparse.Namespace) -> list[tuple[str, str]]:
    """The parameter flags meant for both tools, as (flag, value) pairs."""
    pairs = [("--threads", str(args.threads))]
    for flag, _, _, _ in SHARED_FLAGS[args.kind]:
        value = getattr(args, flag.lstrip("-").replace("-", "_"))
        if value is not None:
            pairs.append((flag, str(value)))
    return pairs


def fhec_bench_flags(fhec: str, kind: str) -> set[str]:
    """The long flags `fhec bench <kind>` accepts, read from its --help.

    Fails clearly when the binary is missing or has no `bench <kind>` command.
    """
    path = Path(fhec)
    if not path.is_file() or not os.access(path, os.X_OK):
        raise CompareError(f"{fhec}: not an executable file (build it with `cargo build --release`)")
    probe = subprocess.run([fhec, "bench", kind, "--help"], capture_output=True, text=True, check=False)
    if probe.returncode != 0:
        said = (probe.stderr or probe.stdout).strip().splitlines()
        first = said[0] if said else f"exit status {probe.returncode}"
        raise CompareError(f"{fhec} has no `bench {kind}` command (it said: {first})")
    return set(re.findall(r"--[a-z][a-z0-9-]*", probe.stdout))


def split_for_fhec(pairs: list[tuple[str, str]], accepted: set[str]) -> tuple[list[str], list[str]]:
    """fhec's arguments (the pairs whose flag it accepts) and the flags it does not take.

    A flag fhec lacks means fhec fixes that parameter itself (e.g. from a preset); OpenFHE still
    gets it, and the parameters both echo are compared after the run.
    """
    arguments, skipped = [], []
    for flag, value in pairs:
        if flag in accepted:
            arguments += [flag, value]
        else:
            skipped.append(flag)
    return arguments, skipped


def run_json(command: list[str], who: str) -> dict:
    """Runs a benchmark command, lets its progress through on stderr, and parses its stdout."""
    print(f"[compare] running {who}: {shlex.join(command)}", file=sys.stderr, flush=True)
    completed = subprocess.run(command, stdout=subprocess.PIPE, text=True, check=False)
    if completed.returncode != 0:
        raise CompareError(f"{who} failed with exit status {completed.returncode}: {shlex.join(command)}")
    try:
        document = json.loads(completed.stdout)
    except json.JSONDecodeError as exc:
        raise CompareError(f"{who} did not print one JSON document on stdout ({exc})") from exc
    if not isinstance(document, dict):
        raise CompareError(f"{who} printed JSON that is not an object")
    return document


def lookup(document: dict, path: tuple[str, ...]):
    """Value at a path of keys in a JSON document, or None where a key is missing."""
    value = document
    for key in path:
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value


def comparison(fhec_value, openfhe_value, sense: str) -> dict:
    """fhec vs openfhe for one row: a ratio for costs, a difference for qualities."""
    if not isinstance(fhec_value, (int, float)) or not isinstance(openfhe_value, (int, float)):
        return {"ratio": None} if sense == "cost" else {"difference": None}
    if sense == "cost":
        return {"ratio": round(fhec_value / openfhe_value, 3) if openfhe_value else None}
    difference = fhec_value - openfhe_value
    return {"difference": difference if isinstance(difference, int) else round(difference, 2)}


def ckks_rows(fhec: dict, openfhe: dict) -> list[dict]:
    """One row per operation (fhec's order, then any only OpenFHE has): time and precision."""
    fhec_ops = {op["name"]: op for op in fhec.get("ops", [])}
    openfhe_ops = {op["name"]: op for op in openfhe.get("ops", [])}
    names = list(fhec_ops) + [name for name in openfhe_ops if name not in fhec_ops]
    rows = []
    for name in names:
        mine, theirs = fhec_ops.get(name, {}), openfhe_ops.get(name, {})
        rows.append(
            {
                "op": name,
                "fhec_median_ms": mine.get("median_ms"),
                "openfhe_median_ms": theirs.get("median_ms"),
                **comparison(mine.get("median_ms"), theirs.get("median_ms"), "cost"),
                "fhec_precision_bits": mine.get("precision_bits"),
                "openfhe_precision_bits": theirs.get("precision_bits"),
                "note": theirs.get("note"),
            }
        )
    return rows


def bootstrap_rows(fhec: dict, openfhe: dict) -> list[dict]:
    """One row per reported quantity of the bootstrap benchmark."""
    rows = []
    for label, path, sense in BOOTSTRAP_ROWS:
        mine, theirs = lookup(fhec, path), lookup(openfhe, path)
        rows.append({"quantity": label, "fhec": mine, "openfhe": theirs, **comparison(mine, theirs, sense)})
    return rows


# Parameters both tools echo under "params", and how far apart they may be.
COMPARED_PARAMS = {
    "log_n": 0,
    "log_qp": 0.5,
    "levels": 0,
    "dnum": 0,
    "special_primes": 0,
    "log_scale": 0,
    "security": None,
}


def parameter_mismatches(fhec: dict, openfhe: dict) -> list[str]:
    """Parameters that differ between the two runs (names both echo; log QP within 0.5 bit)."""
    differences = []
    for key in ("threads", "slots", "input"):
        if (key in fhec or key in openfhe) and fhec.get(key) != openfhe.get(key):
            differences.append(f"{key}: fhec {fhec.get(key)}, openfhe {openfhe.get(key)}")
    for key, tolerance in COMPARED_PARAMS.items():
        mine, theirs = lookup(fhec, ("params", key)), lookup(openfhe, ("params", key))
        if mine is None or theirs is None:
            continue  # not echoed by one side: nothing to compare
        numeric = isinstance(mine, (int, float)) and isinstance(theirs, (int, float))
        if (abs(mine - theirs) > tolerance) if numeric else mine != theirs:
            differences.append(f"{key}: fhec {mine}, openfhe {theirs}")
    return differences


def merge(kind: str, fhec: dict, openfhe: dict, command: str) -> dict:
    """The merged document: both raw results, the rows and the parameter differences."""
    rows = ckks_rows(fhec, openfhe) if kind == "ckks" else bootstrap_rows(fhec, openfhe)
    return {
        "bench": kind,
        "command": command,
        "date_utc": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "threads": fhec.get("threads"),
        "parameter_mismatches": parameter_mismatches(fhec, openfhe),
        "rows": rows,
        "fhec": fhec,
        "openfhe": openfhe,
    }


def show(value, digits: int = 2) -> str:
    """A table cell: numbers rounded, large integers grouped, missing values as a dash."""
    if value is None:
        return "-"
    if isinstance(value, int) and abs(value) >= 10_000:
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def versus(row: dict) -> str:
    """The fhec/openfhe cell: "0.85x" for a ratio, "+3.10" for a difference."""
    if "ratio" in row:
        return "-" if row["ratio"] is None else f"{row['ratio']:.2f}x"
    difference = row["difference"]
    if difference is None:
        return "-"
    return f"{difference:+d}" if isinstance(difference, int) else f"{difference:+.2f}"


def table_cells(merged: dict) -> tuple[list[str], list[list[str]]]:
    """Header and cells of the comparison table for either bench kind."""
    if merged["bench"] == "ckks":
        header = ["op", "fhec ms", "OpenFHE ms", "fhec/OpenFHE", "fhec bits", "OpenFHE bits"]
        cells = [
            [
                row["op"],
                show(row["fhec_median_ms"]),
                show(row["openfhe_median_ms"]),
                versus(row),
                show(row["fhec_precision_bits"]),
                show(row["openfhe_precision_bits"]),
            ]
            for row in merged["rows"]
        ]
    else:
        header = ["quantity", "fhec", "OpenFHE", "fhec vs OpenFHE"]
        cells = [
            [row["quantity"], show(row["fhec"]), show(row["openfhe"]), versus(row)] for row in merged["rows"]
        ]
    return header, cells


def render_text(merged: dict) -> str:
    """A plain, aligned table for the terminal."""
    header, cells = table_cells(merged)
    widths = [max(len(line[column]) for line in [header, *cells]) for column in range(len(header))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True))
        for line in [header, *cells]
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join([*lines, *footer(merged)]) + "\n"


def render_markdown(merged: dict) -> str:
    """A Markdown table with the command and date, ready for docs/benchmarks.md."""
    header, cells = table_cells(merged)
    lines = [
        f"`{merged['command']}` — {merged['date_utc']}, {merged['threads']} threads",
        "",
        "| " + " | ".join(header) + " |",
        "|" + "|".join("---" for _ in header) + "|",
        *("| " + " | ".join(line) + " |" for line in cells),
        "",
    ]
    return "\n".join([*lines, *footer(merged)]) + "\n"


def footer(merged: dict) -> list[str]:
    """Lines under the table: how to read it, and any parameter that differs."""
    if merged["bench"] == "ckks":
        lines = ["fhec/OpenFHE: ratio of median times (< 1: fhec faster)."]
    else:
        costs = "ratio for costs (< 1: fhec cheaper)"
        qualities = "difference for bits and levels (> 0: fhec better)"
        lines = [f"fhec vs OpenFHE: {costs}, {qualities}."]
    lines += [f"parameters differ: {difference}" for difference in merged["parameter_mismatches"]]
    not_taken = merged.get("flags_fhec_does_not_take")
    if not_taken:
        lines.append(f"given to OpenFHE only (fhec sets them itself): {', '.join(not_taken)}")
    return lines


def run(args: argparse.Namespace) -> dict:
    """Runs both benchmarks and merges them."""
    python = Path(args.python)
    if not python.is_file():
        raise CompareError(f"{python}: no Python with openfhe; run bench/peers/setup.sh first")
    accepted = fhec_bench_flags(args.fhec, args.kind)
    shared = shared_arguments(args)
    fhec_arguments, not_taken = split_for_fhec(shared, accepted)
    fhec_command = [args.fhec, "bench", args.kind, *fhec_arguments, *args.fhec_arg, "--json"]
    peer_command = [str(python), str(PEER_SCRIPTS[args.kind])]
    for flag, value in shared:
        peer_command += [flag, value]
    fhec = run_json(fhec_command, "fhec")
    openfhe = run_json(peer_command, "OpenFHE")
    for who, document in (("fhec", fhec), ("OpenFHE", openfhe)):
        if document.get("bench") != args.kind:
            raise CompareError(f"{who} printed a {document.get('bench')!r} result, expected {args.kind!r}")
    command = "bench/peers/compare.py " + shlex.join(sys.argv[1:])
    merged = merge(args.kind, fhec, openfhe, command)
    merged["flags_fhec_does_not_take"] = not_taken
    return merged


def as_merged(document: dict, path: str) -> dict:
    """A saved document ready to render: a merged result as it is, or one tool's raw result
    (an OpenFHE peer's, or fhec's) as a comparison whose other side is empty."""
    kind = document.get("bench") if isinstance(document, dict) else None
    if kind not in SHARED_FLAGS:
        raise CompareError(f"{path}: not a `bench ckks|bootstrap` result nor a merged one")
    if "rows" in document:
        return document
    fhec, openfhe = ({}, document) if document.get("peer") == "openfhe" else (document, {})
    merged = merge(kind, fhec, openfhe, f"saved result {path}")
    merged["date_utc"] = document.get("date_utc", "date not recorded")
    merged["threads"] = document.get("threads")
    merged["parameter_mismatches"] = []
    return merged


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status."""
    args = parse_args(argv)
    try:
        if args.render:
            try:
                with open(args.render, encoding="utf-8") as handle:
                    merged = json.load(handle)
            except (OSError, json.JSONDecodeError) as exc:
                raise CompareError(f"{args.render}: cannot read a merged result ({exc})") from exc
            merged = as_merged(merged, args.render)
        else:
            merged = run(args)
    except CompareError as exc:
        print(f"compare.py: {exc}", file=sys.stderr)
        return 1
    if args.json:
        json.dump(merged, sys.stdout, indent=2)
        sys.stdout.write("\n")
    elif args.markdown:
        sys.stdout.write(render_markdown(merged))
    else:
        sys.stdout.write(render_text(merged))
    return 0


if __name__ == "__main__":
    sys.exit(main())
