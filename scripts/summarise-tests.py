#!/usr/bin/env python3
"""Prints 'N passed, N failed[, N skipped]' for a meson testlog.json, counting the
individual GoogleTest cases where meson recorded them (protocol gtest)."""
import json
import sys


def main(path: str) -> int:
    passed = failed = skipped = 0
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            entry = json.loads(line)
            subs = entry.get("subtests") or []
            if subs:
                for s in subs:
                    r = str(s.get("result", "")).upper()
                    if r.endswith("OK"):
                        passed += 1
                    elif r.endswith("SKIP"):
                        skipped += 1
                    else:
                        failed += 1
                if str(entry.get("result", "")).upper().endswith(("FAIL", "TIMEOUT", "ERROR")) and not any(
                        not str(s.get("result", "")).upper().endswith(("OK", "SKIP")) for s in subs):
                    failed += 1  # the binary itself failed (crash, timeout)
            else:
                r = str(entry.get("result", "")).upper()
                if r.endswith("OK") or r.endswith("EXPECTEDFAIL"):
                    passed += 1
                elif r.endswith("SKIP"):
                    skipped += 1
                else:
                    failed += 1
    print(f"{passed} passed, {failed} failed" + (f", {skipped} skipped" if skipped else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
