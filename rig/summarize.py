#!/usr/bin/env python3
"""Adds up the JUnit reports of every step of rig/test and prints one closing line:
'tests: N passed, N failed, N skipped'. Exits 1, after one 'FAILED <report>: <test>' line per
problem, when

- a test failed;
- a test did not run although it was selected (ctest: 'Unable to find executable', 'Required
  Files Missing', a failed fixture, ...);
- a report holds no test case (a label that matches nothing), unless it is a stand-in report
  for a step that failed before any test ran (`<testsuite tests="1" failures="1"/>`, written by
  rig/test and rig/fuzz), which counts as its failures;
- a test skipped while ASIOKAFKA_REQUIRE_RIG=1 (rig/test sets it): then the skip counts as a
  failure, otherwise as skipped;
- no test passed at all.

What ctest 3.25 writes (--output-junit): every test is a <testcase> with status "run",
"fail" (with <failure>), "notrun" or "disabled". A "notrun" case carries
<skipped message="..."/>: "SKIP_REGULAR_EXPRESSION_MATCHED" for a GTEST_SKIP (the regular
expression gtest_discover_tests sets) and "SKIP_RETURN_CODE=<n>" for a SKIP_RETURN_CODE exit
are skips the test chose; every other message means ctest could not run the test. A DISABLED
test counts as skipped. An empty selection is a <testsuite tests="0" .../> without cases.
"""
import os
import pathlib
import re
import sys
import xml.etree.ElementTree as ET

# <skipped message> of a ctest "notrun" case whose test ran and decided to skip.
CHOSEN_SKIPS = ("SKIP_REGULAR_EXPRESSION_MATCHED", "SKIP_RETURN_CODE=")


def skip_reason(case: ET.Element) -> str:
    """GoogleTest prints the GTEST_SKIP message on the line after 'file:line: Skipped'."""
    out = case.findtext("system-out") or ""
    m = re.search(r": Skipped\n(.+)", out)
    return m.group(1).strip() if m else ""


def classify(case: ET.Element) -> tuple[str, str]:
    """('passed'|'failed'|'skipped', why) for one <testcase>."""
    status = case.get("status")
    for tag in ("failure", "error"):
        bad = case.find(tag)
        if bad is not None:
            return "failed", bad.get("message") or ""
    if status == "fail":
        return "failed", ""
    skipped = case.find("skipped")
    if status == "notrun":
        message = skipped.get("message", "") if skipped is not None else ""
        if message.startswith(CHOSEN_SKIPS):
            return "skipped", skip_reason(case) or message
        detail = (case.findtext("system-out") or "").strip().splitlines()
        return "failed", "did not run: " + (detail[0] if detail else message or "no reason given")
    if status == "disabled":
        return "skipped", "disabled"
    if skipped is not None:  # a report not written by ctest
        return "skipped", skipped.get("message") or ""
    return "passed", ""


def main(folder: str) -> int:
    require_rig = os.environ.get("ASIOKAFKA_REQUIRE_RIG") == "1"
    passed = failed = skipped = 0
    failures = []
    reports = sorted(pathlib.Path(folder).glob("*.xml"))
    if not reports:
        failures.append(f"{folder}: no reports")
    for report in reports:
        try:
            root = ET.parse(report).getroot()
        except ET.ParseError:
            failed += 1
            failures.append(f"{report.stem}: unreadable report")
            continue
        suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
        cases = [c for s in suites for c in s.iter("testcase")]
        if not cases:
            stand_in = sum(int(s.get("failures", "0")) + int(s.get("errors", "0")) for s in suites)
            if stand_in:  # a step that failed before any test ran
                failed += stand_in
                why = next((s.get("message") for s in suites if s.get("message")), "")
                failures.append(f"{report.stem}: {why}" if why else report.stem)
            else:
                failed += 1
                failures.append(f"{report.stem}: no test ran (the selection matched nothing)")
            continue
        for case in cases:
            outcome, why = classify(case)
            name = case.get("name")
            if outcome == "skipped" and require_rig:
                outcome, why = "failed", f"skipped with ASIOKAFKA_REQUIRE_RIG=1: {why}"
            if outcome == "failed":
                failed += 1
                failures.append(f"{report.stem}: {name}" + (f" ({why})" if why else ""))
            elif outcome == "skipped":
                skipped += 1
            else:
                passed += 1
    if passed == 0 and reports:
        failures.append(f"{folder}: no test passed")
    print()
    for f in failures:
        print(f"FAILED {f}")
    print(f"tests: {passed} passed, {failed} failed, {skipped} skipped")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
