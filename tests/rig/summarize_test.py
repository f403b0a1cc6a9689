#!/usr/bin/env python3
"""rig/summarize.py against JUnit reports shaped like the ones ctest 3.25 writes
(--output-junit; observed with gtest_discover_tests, SKIP_RETURN_CODE, DISABLED, a missing
executable, a missing required file and a label that matches nothing) and like the stand-in
reports of rig/test. Each case checks the exit code, the FAILED lines and the closing line."""
import os
import pathlib
import subprocess
import sys
import tempfile
import unittest

SUMMARIZE = pathlib.Path(__file__).resolve().parents[2] / "rig" / "summarize.py"


def gtest_out(test: str, body: str, verdict: str) -> str:
    return ("Running main() from ./googletest/src/gtest_main.cc\n"
            f"Note: Google Test filter = {test}\n"
            "[==========] Running 1 test from 1 test suite.\n"
            f"[ RUN      ] {test}\n{body}{verdict} {test} (0 ms)\n")


def case(name: str, status: str, inner: str = "") -> str:
    return (f'\t<testcase name="{name}" classname="{name}" time="0.004" status="{status}">\n'
            f"{inner}\t</testcase>\n")


def passed(name: str) -> str:
    test = name.split(".", 1)[1]
    return case(name, "run", f"\t\t<system-out>{gtest_out(test, '', '[       OK ]')}</system-out>\n")


def failed(name: str) -> str:
    test = name.split(".", 1)[1]
    out = gtest_out(test, "/src/t.cpp:3: Failure\nExpected equality of these values:\n  1\n  2\n",
                    "[  FAILED  ]")
    return case(name, "fail", f'\t\t<failure message=""/>\n\t\t<system-out>{out}</system-out>\n')


def gtest_skipped(name: str, why: str) -> str:
    test = name.split(".", 1)[1]
    out = gtest_out(test, f"/src/t.cpp:4: Skipped\n{why}\n", "[  SKIPPED ]")
    return case(name, "notrun", '\t\t<skipped message="SKIP_REGULAR_EXPRESSION_MATCHED"/>\n'
                f"\t\t<system-out>{out}</system-out>\n")


def not_run(name: str, message: str, out: str) -> str:
    return case(name, "notrun", f'\t\t<skipped message="{message}"/>\n\t\t<system-out>{out}</system-out>\n')


def disabled(name: str) -> str:
    return case(name, "disabled", "\t\t<system-out>Disabled</system-out>\n")


def suite(*cases: str) -> str:
    n = len(cases)
    fails = sum('status="fail"' in c for c in cases)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<testsuite name="(empty)"\n\ttests="{n}"\n\tfailures="{fails}"\n\tdisabled="0"\n'
            f'\tskipped="0"\n\thostname=""\n\ttime="0"\n\ttimestamp="2025-01-01T00:00:00"\n\t>\n'
            + "".join(cases) + "</testsuite>\n")


# ctest -L <label matching nothing>: no test case at all (and ctest exits 0).
EMPTY = ('<?xml version="1.0" encoding="UTF-8"?>\n<testsuite name="(empty)"\n\ttests="0"\n'
         '\tfailures="0"\n\tdisabled="0"\n\tskipped="0"\n\thostname=""\n\ttime="0"\n'
         '\ttimestamp="2025-01-01T00:00:00"/>\n')
# rig/test before (and rig/fuzz still) for a step that failed before any test ran.
STAND_IN = '<testsuite tests="1" failures="1"/>\n'
# rig/test's stand_in (e.g. for a ctest that exited non-zero).
STAND_IN_NAMED = '<testsuite name="unit.ctest" tests="1" failures="1" message="ctest exited with status 8"/>\n'


class Summarize(unittest.TestCase):
    def run_on(self, reports: dict, require_rig=None):
        """(exit code, FAILED lines, closing line) of summarize.py over `reports` (name: xml)."""
        with tempfile.TemporaryDirectory() as folder:
            for name, text in reports.items():
                pathlib.Path(folder, f"{name}.xml").write_text(text)
            env = {k: v for k, v in os.environ.items() if k != "ASIOKAFKA_REQUIRE_RIG"}
            if require_rig is not None:
                env["ASIOKAFKA_REQUIRE_RIG"] = require_rig
            p = subprocess.run([sys.executable, str(SUMMARIZE), folder], env=env,
                               capture_output=True, text=True, timeout=60)
        lines = p.stdout.strip().splitlines()
        self.assertTrue(lines, p.stderr)
        return p.returncode, [l for l in lines if l.startswith("FAILED")], lines[-1]

    def test_all_pass(self):
        rc, failures, last = self.run_on({
            "unit": suite(passed("unit_tests.Wire.RoundTrip"), passed("unit_tests.Wire.Varint")),
            "mock": suite(passed("mock_tests.Mock.Smoke"))})
        self.assertEqual((rc, failures, last), (0, [], "tests: 3 passed, 0 failed, 0 skipped"))

    def test_a_failure(self):
        rc, failures, last = self.run_on({
            "unit": suite(passed("unit_tests.A.Pass"), failed("unit_tests.A.Fail"))})
        self.assertEqual((rc, failures, last),
                         (1, ["FAILED unit: unit_tests.A.Fail"], "tests: 1 passed, 1 failed, 0 skipped"))

    def test_missing_executable_fails(self):
        rc, failures, last = self.run_on({
            "unit": suite(passed("unit_tests.A.Pass")),
            "clang-unit": suite(
                passed("unit_tests.A.Pass"),
                not_run("codegen_check", "Unable to find executable",
                        "Unable to find executable: /usr/bin/python3.99"),
                not_run("unit_tests_NOT_BUILT", "Unable to find executable",
                        "Unable to find executable: unit_tests_NOT_BUILT"))})
        self.assertEqual(rc, 1)
        self.assertEqual(failures, [
            "FAILED clang-unit: codegen_check (did not run: Unable to find executable: /usr/bin/python3.99)",
            "FAILED clang-unit: unit_tests_NOT_BUILT (did not run: Unable to find executable: unit_tests_NOT_BUILT)"])
        self.assertEqual(last, "tests: 2 passed, 2 failed, 0 skipped")

    def test_missing_required_file_fails(self):
        rc, failures, last = self.run_on({"unit": suite(
            passed("unit_tests.A.Pass"),
            not_run("layering_check", "Required Files Missing", "Unable to find required file: /x/y"))})
        self.assertEqual((rc, failures, last), (
            1, ["FAILED unit: layering_check (did not run: Unable to find required file: /x/y)"],
            "tests: 1 passed, 1 failed, 0 skipped"))

    def test_empty_selection_fails(self):
        rc, failures, last = self.run_on({"unit": suite(passed("unit_tests.A.Pass")), "clang-unit": EMPTY})
        self.assertEqual((rc, failures, last), (
            1, ["FAILED clang-unit: no test ran (the selection matched nothing)"],
            "tests: 1 passed, 1 failed, 0 skipped"))

    def skips(self):
        return {"unit": suite(passed("unit_tests.A.Pass"),
                              gtest_skipped("record_tests.Crc32c.Wide", "no AVX-512 VPCLMULQDQ on this CPU"),
                              not_run("codegen_check", "SKIP_RETURN_CODE=77", ""),
                              disabled("unit_tests.A.Off"))}

    def test_skips_counted_without_require_rig(self):
        for require_rig in (None, "0"):
            rc, failures, last = self.run_on(self.skips(), require_rig)
            self.assertEqual((rc, failures, last), (0, [], "tests: 1 passed, 0 failed, 3 skipped"))

    def test_skips_fail_with_require_rig(self):
        rc, failures, last = self.run_on(self.skips(), "1")
        self.assertEqual(rc, 1)
        self.assertEqual(failures, [
            "FAILED unit: record_tests.Crc32c.Wide (skipped with ASIOKAFKA_REQUIRE_RIG=1: "
            "no AVX-512 VPCLMULQDQ on this CPU)",
            "FAILED unit: codegen_check (skipped with ASIOKAFKA_REQUIRE_RIG=1: SKIP_RETURN_CODE=77)",
            "FAILED unit: unit_tests.A.Off (skipped with ASIOKAFKA_REQUIRE_RIG=1: disabled)"])
        self.assertEqual(last, "tests: 1 passed, 3 failed, 0 skipped")

    def test_stand_in_reports_fail(self):
        rc, failures, last = self.run_on({
            "unit": suite(passed("unit_tests.A.Pass")), "rig1-start": STAND_IN, "unit.ctest": STAND_IN_NAMED})
        self.assertEqual((rc, failures, last), (
            1, ["FAILED rig1-start", "FAILED unit.ctest: ctest exited with status 8"],
            "tests: 1 passed, 2 failed, 0 skipped"))

    def test_nothing_passed_fails(self):
        rc, failures, last = self.run_on({"unit": suite(gtest_skipped("unit_tests.A.Skip", "why"))})
        self.assertEqual(rc, 1)
        self.assertEqual(len(failures), 1)
        self.assertIn("no test passed", failures[0])
        self.assertEqual(last, "tests: 0 passed, 0 failed, 1 skipped")
        rc, failures, _ = self.run_on({})
        self.assertEqual(rc, 1)
        self.assertIn("no reports", failures[0])

    def test_unreadable_report_fails(self):
        rc, failures, _ = self.run_on({"unit": suite(passed("unit_tests.A.Pass")), "asan-unit": "<testsuite"})
        self.assertEqual((rc, failures), (1, ["FAILED asan-unit: unreadable report"]))


if __name__ == "__main__":
    unittest.main(verbosity=2)
