#!/usr/bin/env python3
"""Prints 'N passed, N failed[, N skipped]' for a meson testlog.json, counting the
individual GoogleTest cases from each test's output (a test without GoogleTest
output counts as one)."""
import json
import re
import sys

GTEST = re.compile(r"^\[ +(OK|FAILED|SKIPPED) +\] \S+\.\S+ \(", re.M)


def main(path: str) -> int:
    passed = failed = skipped = 0
    with open(path, encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            entry = json.loads(line)
            result = str(entry.get("result", "")).upper()
            marks = GTEST.findall(entry.get("stdout", "") or "")
            if marks:
                passed += marks.count("OK")
                failed += marks.count("FAILED")
                skipped += marks.count("SKIPPED")
                if not result.endswith("OK") and "FAILED" not in marks:
                    failed += 1  # the binary failed outside a test case (crash, timeout)
            elif result.endswith("OK") or result.endswith("EXPECTEDFAIL"):
                passed += 1
            elif result.endswith("SKIP"):
                skipped += 1
            else:
                failed += 1
    print(f"{passed} passed, {failed} failed" + (f", {skipped} skipped" if skipped else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
