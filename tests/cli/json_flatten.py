"""Prints a JSON (or JSON-lines, *.jsonl) file as flat 'key<TAB>value' lines for the
C++ CLI tests: nested keys joined with '.', list items by index (JSON lines: the line
index first), values as JSON. Fails on invalid JSON, NaN or Infinity."""
import json
import sys


def reject(name):
    raise ValueError(f"non-standard JSON constant {name}")


def walk(prefix, value, out):
    if isinstance(value, dict):
        for k, v in value.items():
            walk(f"{prefix}.{k}" if prefix else str(k), v, out)
    elif isinstance(value, list):
        out.append((f"{prefix}.#" if prefix else "#", str(len(value))))
        for i, v in enumerate(value):
            walk(f"{prefix}.{i}" if prefix else str(i), v, out)
    else:
        out.append((prefix, json.dumps(value)))


def main():
    path = sys.argv[1]
    with open(path, encoding="utf-8") as f:
        text = f.read()
    if path.endswith(".jsonl"):
        doc = [json.loads(line, parse_constant=reject) for line in text.splitlines() if line.strip()]
    else:
        doc = json.loads(text, parse_constant=reject)
    out = []
    walk("", doc, out)
    for k, v in out:
        print(f"{k}\t{v}")


if __name__ == "__main__":
    main()
