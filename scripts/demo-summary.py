#!/usr/bin/env python3
"""The demo's summary: planted defects (prnwebsrc's truth file) against what
prnanomaly reported (prnjsonlines) and what prnreject fired, as a table on the
terminal and in OUT/summary.md, and OUT/web-overview.png: the overlay strips
stitched into one web, planted defects outlined in green.

  demo-summary.py OUT_DIR   (reads truth.jsonl, detections.jsonl, rejects.jsonl, strips/)
  demo-summary.py --calibrate BUFFERS.jsonl MARGIN
      prints "PIXEL_THRESHOLD IMAGE_THRESHOLD": the highest pixel and buffer scores
      of a clean web (prnjsonlines what=buffers, prnanomaly pixel-threshold=0)
      plus MARGIN
"""
import json
import os
import sys


def read_jsonl(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def overlaps(a, b, margin=4):
    """Boxes (x, y, w, h) in web coordinates overlap, within `margin` pixels."""
    return (a[0] < b[0] + b[2] + margin and b[0] < a[0] + a[2] + margin and
            a[1] < b[1] + b[3] + margin and b[1] < a[1] + a[3] + margin)


def overview(out, truth):
    """Stitches out/strips/*.png and outlines the planted defects; best effort."""
    try:
        import numpy as np
        from skimage import io, transform
    except ImportError:
        return None
    strips_dir = os.path.join(out, "strips")
    names = sorted(n for n in os.listdir(strips_dir) if n.endswith(".png")) if os.path.isdir(strips_dir) else []
    if not names:
        return None
    web = np.concatenate([io.imread(os.path.join(strips_dir, n))[..., :3] for n in names], axis=0).copy()
    for t in truth:
        x0, y0 = max(0, t["x"] - 6), max(0, t["y"] - 6)
        x1, y1 = min(web.shape[1] - 1, t["x"] + t["width"] + 5), min(web.shape[0] - 1, t["y"] + t["height"] + 5)
        for yy in (y0, y1):
            web[yy, x0:x1 + 1] = (0, 255, 0)
        for xx in (x0, x1):
            web[y0:y1 + 1, xx] = (0, 255, 0)
    scale = min(1.0, 4096 / web.shape[0])
    if scale < 1.0:
        web = (transform.rescale(web, (scale, scale, 1), anti_aliasing=True) * 255).astype(np.uint8)
    path = os.path.join(out, "web-overview.png")
    io.imsave(path, web, check_contrast=False)
    return path


def calibrate(path, margin):
    buffers = [b for b in read_jsonl(path) if b.get("kind") == "buffer"]
    if not buffers:
        raise SystemExit(f"demo-summary: no buffer lines in {path}")
    pixel = max((r["score"] for b in buffers for r in b["regions"]), default=0.0)
    image = max(b["score"] for b in buffers)
    print(f"{min(pixel + margin, 0.99):.4f} {min(image + margin, 0.99):.4f}")
    return 0


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "--calibrate":
        return calibrate(sys.argv[2], float(sys.argv[3]))
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    out = sys.argv[1]
    truth = read_jsonl(os.path.join(out, "truth.jsonl"))
    regions = [d for d in read_jsonl(os.path.join(out, "detections.jsonl")) if d.get("kind") == "region"]
    rejects = read_jsonl(os.path.join(out, "rejects.jsonl"))
    boxes = [(d["x"], d["row_offset"], d["width"], d["height"]) for d in regions]
    planted = [(t["x"], t["y"], t["width"], t["height"]) for t in truth]

    found = [any(overlaps(p, b) for b in boxes) for p in planted]
    false_alarms = [b for b in boxes if not any(overlaps(p, b) for p in planted)]
    by_kind = {}
    for t, f in zip(truth, found):
        k = by_kind.setdefault(t["kind"], [0, 0])
        k[0] += 1
        k[1] += int(f)

    lines = ["# Demo summary", "",
             f"- planted defects: {len(planted)}; found: {sum(found)} ({100.0 * sum(found) / max(1, len(planted)):.0f}%)",
             f"- reported regions: {len(boxes)}; false alarms (overlapping no planted defect): {len(false_alarms)}",
             f"- reject fires: {len(rejects)} (late: {sum(1 for r in rejects if r.get('late'))})", "",
             "| kind | planted | found |", "|---|---:|---:|"]
    lines += [f"| {k} | {v[0]} | {v[1]} |" for k, v in sorted(by_kind.items())]
    lines += ["", "| planted (x, row, w, h) | kind | found |", "|---|---|---|"]
    lines += [f"| {p} | {t['kind']} | {'yes' if f else 'no'} |" for p, t, f in zip(planted, truth, found)]
    if false_alarms:
        lines += ["", "False alarms (x, row, w, h): " + ", ".join(str(b) for b in false_alarms)]
    ov = overview(out, truth)
    if ov:
        lines += ["", f"Overview: {ov} (overlay strips stitched; planted defects outlined in green)"]
    text = "\n".join(lines) + "\n"
    with open(os.path.join(out, "summary.md"), "w") as f:
        f.write(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
