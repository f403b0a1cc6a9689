#!/usr/bin/env python3
"""Adds up the JUnit reports of every ctest run of rig/test and prints one closing line:
'tests: N passed, N failed, N skipped'. Exits 1 when a test failed or nothing ran."""
import pathlib
import sys
import xml.etree.ElementTree as ET


def main(folder: str) -> int:
    passed = failed = skipped = 0
    failures = []
    for report in sorted(pathlib.Path(folder).glob("*.xml")):
        try:
            root = ET.parse(report).getroot()
        except ET.ParseError:
            failed += 1
            failures.append(f"{report.stem}: unreadable report")
            continue
        suites = [root] if root.tag == "testsuite" else root.iter("testsuite")
        for suite in suites:
            cases = list(suite.iter("testcase"))
            if not cases:  # a stand-in report for a step that failed before any test
                n = int(suite.get("failures", "0"))
                failed += n
                if n:
                    failures.append(report.stem)
                continue
            for case in cases:
                if case.find("failure") is not None or case.find("error") is not None \
                        or case.get("status") == "fail":
                    failed += 1
                    failures.append(f"{report.stem}: {case.get('name')}")
                elif case.find("skipped") is not None or case.get("status") in ("notrun", "disabled"):
                    skipped += 1
                else:
                    passed += 1
    print()
    for f in failures:
        print(f"FAILED {f}")
    print(f"tests: {passed} passed, {failed} failed, {skipped} skipped")
    return 1 if failed or passed == 0 else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
