"""Tests of compare.py's table logic and of its failure messages.

The documents below are synthetic inputs for the arithmetic (round numbers chosen so that the
expected ratios are obvious), not measurements. Run with any Python 3.10+, openfhe not needed:

  python3 -m unittest discover -s bench/peers -p 'test_*.py'
"""

from __future__ import annotations

import io
import json
import os
import stat
import sys
import tempfile
import unittest
from contextlib import redirect_stderr, redirect_stdout

import compare

PARAMS = {"log_n": 16, "log_qp": 1740, "levels": 24, "dnum": 3, "security": "128-bit"}


def ckks_document(ops: list[dict], **overrides) -> dict:
    """A `bench ckks` document with the given ops."""
    return {"bench": "ckks", "threads": 2, "params": dict(PARAMS), "ops": ops, **overrides}


class CkksRows(unittest.TestCase):
    def test_ratio_is_fhec_over_openfhe_and_missing_sides_stay_empty(self):
        fhec = ckks_document(
            [{"name": "rotate", "median_ms": 2.0, "precision_bits": 30.0}, {"name": "ntt", "median_ms": 1.0}]
        )
        openfhe = ckks_document(
            [
                {"name": "rotate", "median_ms": 8.0, "precision_bits": 31.0},
                {"name": "ntt", "median_ms": None, "note": "not reachable"},
                {"name": "encode", "median_ms": 4.0},
            ]
        )
        rows = {row["op"]: row for row in compare.ckks_rows(fhec, openfhe)}
        self.assertEqual(list(rows), ["rotate", "ntt", "encode"])
        self.assertEqual(rows["rotate"]["ratio"], 0.25)
        self.assertIsNone(rows["ntt"]["ratio"])
        self.assertEqual(rows["ntt"]["note"], "not reachable")
        self.assertIsNone(rows["encode"]["fhec_median_ms"])
        self.assertIsNone(rows["encode"]["ratio"])

    def test_parameter_mismatches_are_named(self):
        fhec = ckks_document([], threads=1)
        openfhe = ckks_document([], params={**PARAMS, "log_qp": 1741.5})
        mismatches = compare.parameter_mismatches(fhec, openfhe)
        self.assertEqual(mismatches, ["threads: fhec 1, openfhe 2", "log_qp: fhec 1740, openfhe 1741.5"])

    def test_log_qp_may_differ_by_rounding_only(self):
        fhec = ckks_document([], params={**PARAMS, "log_qp": 1739.8})
        self.assertEqual(compare.parameter_mismatches(fhec, ckks_document([])), [])

    def test_markdown_has_one_line_per_op_and_the_ratio(self):
        fhec = ckks_document([{"name": "rotate", "median_ms": 3.0}])
        openfhe = ckks_document([{"name": "rotate", "median_ms": 6.0}])
        markdown = compare.render_markdown(compare.merge("ckks", fhec, openfhe, "cmd"))
        self.assertIn("| rotate | 3.00 | 6.00 | 0.50x | - | - |", markdown)


class BootstrapRows(unittest.TestCase):
    def test_costs_get_ratios_and_qualities_get_differences(self):
        fhec = {
            "bench": "bootstrap",
            "time_s": {"median": 5.0},
            "precision_bits": {"mean": 20.0},
            "levels_out": 9,
        }
        openfhe = {
            "bench": "bootstrap",
            "time_s": {"median": 10.0},
            "precision_bits": {"mean": 12.5},
            "levels_out": 3,
        }
        rows = {row["quantity"]: row for row in compare.bootstrap_rows(fhec, openfhe)}
        self.assertEqual(rows["time (s, median)"]["ratio"], 0.5)
        self.assertEqual(rows["precision (bits, mean)"]["difference"], 7.5)
        self.assertEqual(rows["levels left after"]["difference"], 6)
        self.assertEqual(compare.versus(rows["levels left after"]), "+6")
        self.assertIsNone(rows["evaluation keys (bytes)"]["ratio"])


class FhecArguments(unittest.TestCase):
    def test_flags_fhec_lacks_go_to_openfhe_only_and_are_listed(self):
        pairs = [("--threads", "2"), ("--log-n", "16"), ("--levels", "24")]
        arguments, skipped = compare.split_for_fhec(pairs, {"--threads", "--log-n", "--json"})
        self.assertEqual(arguments, ["--threads", "2", "--log-n", "16"])
        self.assertEqual(skipped, ["--levels"])


class Failures(unittest.TestCase):
    def run_main(self, argv: list[str]) -> tuple[int, str]:
        """Runs compare.main and returns (exit status, stderr)."""
        stderr, stdout = io.StringIO(), io.StringIO()
        with redirect_stderr(stderr), redirect_stdout(stdout):
            status = compare.main(argv)
        return status, stderr.getvalue()

    def test_a_binary_without_the_bench_command_is_named(self):
        with tempfile.TemporaryDirectory() as directory:
            fake = os.path.join(directory, "fhec")
            with open(fake, "w", encoding="ascii") as handle:
                handle.write("#!/bin/sh\necho \"error: unrecognized subcommand 'bench'\" >&2\nexit 2\n")
            os.chmod(fake, stat.S_IRWXU)
            status, said = self.run_main(["--fhec", fake, "--python", sys.executable, "ckks"])
        self.assertEqual(status, 1)
        self.assertIn("has no `bench ckks` command", said)
        self.assertIn("unrecognized subcommand 'bench'", said)

    def test_a_missing_binary_is_named(self):
        status, said = self.run_main(["--fhec", "/nonexistent/fhec", "--python", sys.executable, "ckks"])
        self.assertEqual(status, 1)
        self.assertIn("/nonexistent/fhec: not an executable file", said)

    def test_render_refuses_a_document_that_is_not_a_bench_result(self):
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
            json.dump({"bench": "model"}, handle)
        try:
            status, said = self.run_main(["--render", handle.name])
        finally:
            os.unlink(handle.name)
        self.assertEqual(status, 1)
        self.assertIn("not a `bench ckks|bootstrap` result", said)


if __name__ == "__main__":
    unittest.main()
