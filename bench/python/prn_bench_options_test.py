"""Benchmark command lines (meson suite 'bench'): bad options end with exit code 1
and a message naming the option and the value, and prn-bench-core runs every
point in --processes child processes, the table showing the range over them.

    prn_bench_options_test.py --core build/bench/prn-bench-core --forward build/bench/prn-bench-forward
                              [--train build/bench/prn-bench-train] [--augment build/bench/prn-bench-augment]
"""
import argparse
import re
import subprocess
import sys


def run(cmd):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=600)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--core", required=True)
    ap.add_argument("--forward", required=True)
    ap.add_argument("--train", help="prn-bench-train (built with OpenCV)")
    ap.add_argument("--augment", help="prn-bench-augment")
    a = ap.parse_args()
    failures = []

    bad = [
        ([a.core, "--batches", "8,0"], "option --batches: expected an integer >= 1, got '0'"),
        ([a.core, "--repeats", "3x"], "option --repeats: expected an integer >= 1, got '3x'"),
        ([a.core, "--processes", ""], "option --processes: expected an integer >= 1, got ''"),
        ([a.core, "--device", "tpu"], "option --device: expected cpu or cuda, got 'tpu'"),
        ([a.core, "--configs", "huge"], "unknown model configuration 'huge'"),
        ([a.core, "--conv", "fft"], "option --conv: expected auto or direct, got 'fft'"),
        ([a.forward, "conv", "--repeats", "q"], "option --repeats of conv: expected an integer >= 0, got 'q'"),
    ]
    if a.train:
        bad += [
            ([a.train, "--batch", "8,x,4"], "option --batch: expected an integer >= 0, got 'x'"),
            ([a.train, "--steps", "0"], "option --steps: expected an integer >= 1, got '0'"),
        ]
    if a.augment:
        bad += [
            ([a.augment, "--size", "8"], "option --size: expected an integer >= 16, got '8'"),
            ([a.augment, "--reps", "many"], "option --reps: expected an integer >= 1, got 'many'"),
        ]
    for cmd, want in bad:
        p = run(cmd)
        if p.returncode != 1 or want not in p.stderr:
            failures.append(f"{' '.join(cmd[1:])}: exit {p.returncode}, stderr {p.stderr.strip()!r}; expected exit 1 "
                            f"and {want!r}")
        elif "| config |" in p.stdout:
            failures.append(f"{' '.join(cmd[1:])}: printed a table before failing")

    p = run([a.core, "--configs", "light", "--batches", "1", "--processes", "2", "--repeats", "1", "--threads", "1"])
    progress = re.findall(r"\[(\d)/2\] light batch 1, process (\d) of 2: [\d.]+ ms, [\d.]+ of conv", p.stderr)
    row = re.search(r"^\| light \| 1 \| [\d.]+ \| ([\d.]+) \| [\d.]+ \| [\d.]+ \| [\d.]+ \| ([\d.]+) \| "
                    r"([\d.]+)-([\d.]+) \| \d+ \|$", p.stdout, re.M)
    if p.returncode != 0 or progress != [("1", "1"), ("2", "2")] or not row:
        failures.append(f"two processes of light batch 1: exit {p.returncode}, progress {progress}, "
                        f"stdout:\n{p.stdout}\nstderr:\n{p.stderr}")
    else:
        # the row's fraction is one of the processes', so inside their range
        frac, lo, hi = float(row.group(2)), float(row.group(3)), float(row.group(4))
        if not (lo <= frac <= hi and float(row.group(1)) > 0):
            failures.append(f"row {row.group(0)!r}: of conv {frac} outside the range {lo}-{hi}")

    checks = len(bad) + 1
    if a.augment:
        # every step of the synthesis gets a row with a positive time
        checks += 1
        p = run([a.augment, "--size", "32", "--reps", "2", "--threads", "1"])
        rows = re.findall(r"^\| ([^|]+) \| ([\d.]+) \| (\d+) \|$", p.stdout, re.M)
        augmenters = [r for r in rows if r[0].startswith("DRAEM augmenter: ")]
        if p.returncode != 0 or len(rows) != 17 or len(augmenters) != 10 or \
                any(float(r[1]) <= 0 for r in rows) or "32x32" not in p.stdout:
            failures.append(f"prn-bench-augment --size 32: exit {p.returncode}, {len(rows)} rows, stdout:\n{p.stdout}"
                            f"\nstderr:\n{p.stderr}")

    for f in failures:
        print("FAIL", f)
    print(f"{checks - len(failures)} of {checks} checks passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
