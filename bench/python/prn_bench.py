"""prn-bench: prnanomaly against the runtimes a user could pick instead, in one run.

Same network, same weights (one bundle file), same tiles, same thread count:
  - the C++ core forward (LibTorch), fp32 and CPU bf16 (autocast), with the bf16
    accuracy loss on generated textures (max heatmap difference, image AUROC);
  - the prnanomaly element in appsrc ! prnanomaly ! fakesink for GRAY8 widths
    (prn-bench-element), lines/s and tiles/s;
  - PyTorch eager (prn_reference.py), ONNX Runtime and OpenVINO (f32 and bf16) on an
    ONNX export of that reference;
  - the machine's limit: a plain large 3x3 conv's FLOP/s (fp32 and bf16) in the
    same run, and every forward's FLOP/s as a fraction of it.
Prints a Markdown table on stdout, writes JSON (--json), progress on stderr.
Normally started through build/bench/prn-bench, which fills in the tool paths.
"""
import argparse
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULTS = {"light": {"tiles": 32, "tile_rows": 4, "images": 16}, "paper": {"tiles": 8, "tile_rows": 2, "images": 8}}
LINES_PER_BUFFER = 64


def log(msg):
    print(f"[prn-bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


class Runner:
    def __init__(self, a):
        self.a = a
        self.env = dict(os.environ, OMP_NUM_THREADS=str(a.threads), MKL_NUM_THREADS=str(a.threads))
        if a.omp_wait_policy != "default":
            self.env["OMP_WAIT_POLICY"] = a.omp_wait_policy.upper()
        if a.plugin_path:
            old = self.env.get("GST_PLUGIN_PATH")
            self.env["GST_PLUGIN_PATH"] = a.plugin_path + (os.pathsep + old if old else "")

    def run(self, what, cmd, parse_json=True):
        log(what)
        t0 = time.perf_counter()
        p = subprocess.run(cmd, env=self.env, capture_output=True, text=True)
        if p.returncode != 0:
            raise SystemExit(f"prn-bench: {what} failed (exit {p.returncode}): {' '.join(cmd)}\n{p.stderr[-3000:]}")
        log(f"  done in {time.perf_counter() - t0:.1f} s")
        if not parse_json:
            return p.stdout
        lines = [l for l in p.stdout.splitlines() if l.startswith("{")]
        if not lines:
            raise SystemExit(f"prn-bench: {what}: expected a JSON line on stdout, got:\n{p.stdout[-2000:]}")
        return json.loads(lines[-1])

    def tool(self, what, *args):
        return self.run(what, [self.a.tool, *args, "--threads", str(self.a.threads)])

    def peer(self, what, *args):
        return self.run(what, [sys.executable, os.path.join(HERE, "prn_peers.py"), *args,
                               "--threads", str(self.a.threads)])


def machine():
    model, flags = "?", ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name") and model == "?":
                    model = line.split(":", 1)[1].strip()
                elif line.startswith("flags") and not flags:
                    flags = line
    except OSError:
        pass
    return {"cpu": model, "nproc": len(os.sched_getaffinity(0)), "avx512_bf16": "avx512_bf16" in flags,
            "amx_bf16": "amx_bf16" in flags, "kernel": platform.release(), "python": platform.python_version()}


def max_diff(path, ref):
    import numpy as np
    a, b = np.fromfile(path, "<f4"), np.fromfile(ref, "<f4")
    if a.shape != b.shape:
        raise SystemExit(f"prn-bench: maps '{path}' hold {a.size} values, the C++ reference '{ref}' {b.size}")
    return float(np.abs(a - b).max())


def parse_element(text):
    """prn-bench-element's Markdown rows: width, rows, tiles, element lines/s, core lines/s, overhead,
    the element's warm-up at caps in ms (not part of its lines/s)."""
    rows = []
    for m in re.finditer(r"^\|\s*(\d+)\s*\|\s*(\d+)\s*\|\s*(\d+)\s*\|\s*([\d.]+)\s*\|\s*([\d.]+)\s*\|"
                         r"\s*[-\d.]+%\s*\|\s*([\d.]+)\s*\|", text, re.M):
        w, r, t, el, core = int(m[1]), int(m[2]), int(m[3]), float(m[4]), float(m[5])
        rows.append({"width": w, "rows": r, "tiles": t, "lines_per_s": el, "core_lines_per_s": core,
                     "tiles_per_s": t * el / r, "core_tiles_per_s": t * core / r, "warm_up_ms": float(m[6])})
    if not rows:
        raise SystemExit(f"prn-bench: no table rows in prn-bench-element's output:\n{text[-2000:]}")
    return rows


def run_all(a):
    R = Runner(a)
    res = {"date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "machine": machine(),
           "threads": a.threads, "batch": a.batch, "rounds": a.rounds,
           "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", "default") if a.omp_wait_policy == "default"
           else a.omp_wait_policy.upper(), "load_average_start": os.getloadavg(),
           "runs": []}
    work = a.work_dir
    bundle = a.bundle or os.path.join(work, f"{a.config}.prn")
    if not a.bundle:
        R.tool(f"random {a.config} bundle with fitted prototypes", "make-bundle", "--config", a.config,
               "--out", bundle)
    info = R.tool("model info", "info", "--bundle", bundle)
    res["model"] = info
    S, flops = info["input_size"], info["flops_per_tile"]
    tiles = os.path.join(work, "tiles.f32")
    R.tool(f"{a.tiles} generated tiles", "tiles", "--size", str(S), "--count", str(a.tiles), "--out", tiles)
    common = ["--bundle", bundle, "--batch", str(a.batch), "--repeats", "1"]
    ref = os.path.join(work, "maps-cpp-fp32.f32")  # written by the first round's "cpp-fp32" job
    # (key, label, precision, command maker(maps path or None)): every measurement
    # runs once per round, rounds interleave the runtimes, the fastest round counts.
    jobs = [(f"conv-{p}", f"plain 3x3 conv, {p}", p, lambda out, p=p: R.tool(
        f"plain 3x3 conv, {p}", "conv", "--precision", p, "--repeats", "1")) for p in ("fp32", "bf16")]
    for p in ("fp32",) if "bf16" in a.skip else ("fp32", "bf16"):
        jobs.append((f"cpp-{p}", "prnanomaly C++ forward (LibTorch)", p, lambda out, p=p: R.tool(
            f"C++ core forward {p}", "time", *common, "--input", tiles, "--precision", p,
            *(["--output", out] if out else []))))
    if "torch" not in a.skip:
        jobs.append(("torch", "PyTorch eager (Python reference)", "fp32", lambda out: R.peer(
            "PyTorch eager", "time", "--runtime", "torch", "--tiles", tiles, *(["--out", out] if out else []),
            *common)))
    onnx = os.path.join(work, f"{a.config}-b{a.batch}.onnx")
    variants = [("onnxruntime", "f32", "ONNX Runtime (CPU EP)")] if "onnxruntime" not in a.skip else []
    if "openvino" not in a.skip:
        variants += [("openvino", p, "OpenVINO (CPU)") for p in (("f32",) if "bf16" in a.skip else ("f32", "bf16"))]
    for rt, p, name in variants:
        jobs.append((f"{rt}-{p}", name, "bf16" if p == "bf16" else "fp32", lambda out, rt=rt, p=p, name=name: R.peer(
            f"{name} {p}", "time", "--runtime", rt, "--precision", p, "--onnx", onnx, "--tiles", tiles,
            *(["--out", out] if out else []), *common)))
    if variants:
        res["onnx_export"] = R.peer("ONNX export of the reference (torch.onnx, dynamo)", "export", "--bundle",
                                    bundle, "--batch", str(a.batch), "--out", onnx)
    if "element" not in a.skip:
        if not a.element_tool:
            raise SystemExit("prn-bench: no --element-tool (built only with GStreamer); add --skip element")
        stride = S - S // 4  # the element's default overlap: a quarter tile
        rows = -(-(S + (a.tile_rows - 1) * stride) // LINES_PER_BUFFER) * LINES_PER_BUFFER
        jobs.append(("element", "element", "fp32", lambda out: R.run(
            f"element in a pipeline, widths {a.widths}, {rows} rows",
            [a.element_tool, "--bundle", bundle, "--widths", a.widths, "--rows", str(rows), "--lines-per-buffer",
             str(LINES_PER_BUFFER), "--batch-size", str(a.batch), "--repeats", "1"], parse_json=False)))
    best = {}
    for rnd in range(a.rounds):
        log(f"round {rnd + 1} of {a.rounds}, load average {os.getloadavg()[0]:.1f}")
        for key, label, p, make in jobs:
            out = os.path.join(work, f"maps-{key}.f32") if rnd == 0 and not key.startswith(("conv", "element")) \
                else None
            r = make(out)
            if key == "element":
                text, r = r, parse_element(r)
                m = re.search(r"(\d+) threads", text)
                if not m or int(m[1]) != a.threads:
                    raise SystemExit(f"prn-bench: prn-bench-element ran with {m[1] if m else '?'} threads, "
                                     f"expected {a.threads} (OMP_NUM_THREADS):\n{text[:500]}")
                old = best.get(key)
                best[key] = [e if not old or e["tiles_per_s"] >= o["tiles_per_s"] else o
                             for e, o in zip(r, old or r)]
                continue
            if out:
                r["maps"] = out
            speed = r.get("gflops", r.get("tiles_per_s"))
            log(f"  {label} {p}: " + (f"{speed:.1f} GFLOP/s" if key.startswith("conv") else f"{speed:.2f} tiles/s"))
            if key not in best or speed > best[key][1].get("gflops", best[key][1].get("tiles_per_s")):
                best[key] = (label, {**r, "maps": (best[key][1].get("maps") if key in best else None) or r.get("maps")})
    res["load_average_end"] = os.getloadavg()
    res["conv"] = {p: best[f"conv-{p}"][1] for p in ("fp32", "bf16")}
    for key, label, p, _ in jobs:
        if key.startswith("conv") or key == "element":
            continue
        r = dict(best[key][1])
        entry = {**r, "runtime": label, "precision": p, "gflops": flops * r["tiles_per_s"] / 1e9}
        entry["of_conv"] = entry["gflops"] / res["conv"]["bf16" if p == "bf16" else "fp32"]["gflops"]
        entry["max_abs_diff_vs_cpp_fp32"] = max_diff(r["maps"], ref)
        res["runs"].append(entry)
    if "element" in best:
        res["element"] = best["element"]
        for e in res["element"]:
            e["gflops"] = flops * e["tiles_per_s"] / 1e9
            e["of_conv"] = e["gflops"] / res["conv"]["fp32"]["gflops"]
    if a.images > 0 and "bf16" not in a.skip:
        res["bf16_accuracy"] = R.tool(f"bf16 accuracy on {a.images} generated textures", "accuracy", "--bundle",
                                      bundle, "--images", str(a.images))
    return res


def targets(res):
    """The issue's targets, judged on this run's numbers (fp32 work against fp32 work)."""
    runs = res["runs"]
    cpp = next((r for r in runs if r["runtime"].startswith("prnanomaly") and r["precision"] == "fp32"), None)
    eager = next((r["tiles_per_s"] for r in runs if r["runtime"].startswith("PyTorch")), None)
    peers = [r for r in runs if not r["runtime"].startswith("prnanomaly") and r["precision"] == "fp32"]
    out = []
    if cpp:
        out.append(f"C++ forward at {cpp['of_conv']:.2f} of the conv limit (target 0.8): "
                   f"{'met' if cpp['of_conv'] >= 0.8 else 'not met'}")
    for e in res.get("element") or []:
        if peers:
            best = max(peers, key=lambda r: r["tiles_per_s"])
            ok = e["tiles_per_s"] >= best["tiles_per_s"]
            out.append(f"element {e['width']} px {e['tiles_per_s']:.2f} tiles/s vs fastest fp32 peer "
                       f"({best['runtime']}) {best['tiles_per_s']:.2f}: {'met' if ok else 'not met'}")
        if eager:
            ok = e["tiles_per_s"] >= 1.5 * eager
            out.append(f"element {e['width']} px {e['tiles_per_s'] / eager:.2f}x PyTorch eager (target 1.5x): "
                       f"{'met' if ok else 'not met'}")
    return out or ["nothing to judge (runtimes skipped)"]


def table(res):
    m, conv = res["machine"], res["conv"]
    eager = next((r["tiles_per_s"] for r in res["runs"] if r["runtime"].startswith("PyTorch")), None)
    out = [f"# prn-bench: {res['model']['config']} configuration", "",
           f"{m['cpu']}, {m['nproc']} CPUs (avx512_bf16: {m['avx512_bf16']}, amx_bf16: {m['amx_bf16']}); **{res['threads']} threads for every "
           f"runtime**; OMP_WAIT_POLICY {res['omp_wait_policy']}; batch {res['batch']}; fastest of {res['rounds']} interleaved rounds; {res['date_utc']}; "
           f"load average {res['load_average_start'][0]:.1f} at the start, {res['load_average_end'][0]:.1f} at the end",
           "",
           f"model: {res['model']['config']}, {res['model']['input_size']} px tiles, "
           f"{res['model']['flops_per_tile'] / 1e9:.2f} GFLOP/tile (prn::count_flops, "
           f"{res['model']['prototypes']} prototypes/scale)", "",
           f"machine limit, plain 3x3 conv 8x256x64x64 -> 256: fp32 {conv['fp32']['gflops']:.1f} GFLOP/s, "
           f"bf16 {conv['bf16']['gflops']:.1f} GFLOP/s (LibTorch/oneDNN, same run)", "",
           "| runtime | precision | tiles | tiles/s | GFLOP/s | of conv limit | vs PyTorch eager | max abs diff vs C++ fp32 |",
           "|---|---|---:|---:|---:|---:|---:|---:|"]
    for r in res["runs"]:
        vs = f"{r['tiles_per_s'] / eager:.2f}x" if eager else "-"
        diff = r.get("max_abs_diff_vs_cpp_fp32")
        out.append(f"| {r['runtime']} | {r['precision']} | {r['tiles']} | {r['tiles_per_s']:.2f} | {r['gflops']:.1f} "
                   f"| {r['of_conv']:.2f} | {vs} | {'-' if diff is None else f'{diff:.2g}'} |")
    if res.get("element"):
        out += ["", "prnanomaly element, `appsrc ! prnanomaly ! fakesink`, GRAY8, overlapping tiles (a quarter "
                "tile), fp32, timed from the end of its warm-up at caps (one call per call shape on blank tiles, "
                "last column) to EOS; 'bare forward' = the C++ forward on the same model calls in the same run, "
                "after the same warm-up calls", "",
                "| width px | rows | tiles | lines/s | tiles/s | GFLOP/s | of conv limit | vs PyTorch eager "
                "| bare forward tiles/s | warm-up ms |", "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for e in res["element"]:
            vs = f"{e['tiles_per_s'] / eager:.2f}x" if eager else "-"
            out.append(f"| {e['width']} | {e['rows']} | {e['tiles']} | {e['lines_per_s']:.1f} | {e['tiles_per_s']:.2f} "
                       f"| {e['gflops']:.1f} | {e['of_conv']:.2f} | {vs} | {e['core_tiles_per_s']:.2f} "
                       f"| {e['warm_up_ms']:.0f} |")
    off = [r["runtime"] for r in res["runs"] if r["precision"] == "fp32" and r.get("max_abs_diff_vs_cpp_fp32", 0) > 1e-3]
    if off:
        out += ["", f"WARNING: {', '.join(off)} differ from the C++ fp32 maps by more than 1e-3: not the same work"]
    out += ["", "issue targets (this run): " + "; ".join(targets(res))]
    acc = res.get("bf16_accuracy")
    if acc:
        out += ["", f"bf16 vs fp32 (C++ forward, {acc['images']} generated textures, {acc['defective']} with "
                f"defects): max abs heatmap diff {acc['max_abs_heatmap_diff']:.3g} (mean "
                f"{acc['mean_abs_heatmap_diff']:.2g}), max image-score diff {acc['max_abs_score_diff']:.3g}, "
                f"image AUROC {acc['auroc_fp32']:.4f} (fp32) -> {acc['auroc_bf16']:.4f} (bf16)"]
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(prog="prn-bench", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", choices=sorted(DEFAULTS), default="light")
    ap.add_argument("--bundle", help="a bundle file (default: a random one of --config, prototypes fitted)")
    ap.add_argument("--tiles", type=int, help="tiles per timed pass (default light 32, paper 8)")
    ap.add_argument("--batch", type=int, default=8, help="tiles per forward (default 8)")
    ap.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)),
                    help="threads of every runtime (default: the CPUs this process may use)")
    ap.add_argument("--rounds", type=int, default=3,
                    help="rounds; each times every runtime once (one pass after a warm-up batch), runtimes "
                         "interleaved; the fastest round counts (default 3)")
    ap.add_argument("--widths", default="2048,4096,8192")
    ap.add_argument("--omp-wait-policy", choices=["default", "passive", "active"], default="default",
                    help="OMP_WAIT_POLICY for every runtime (LibTorch's OpenMP; default: as the environment has it)")
    ap.add_argument("--tile-rows", type=int, help="rows of tiles the element scores (default light 4, paper 2)")
    ap.add_argument("--images", type=int, help="bf16 accuracy images, 0 skips (default light 16, paper 8)")
    ap.add_argument("--skip", default="", help="comma list of: element, torch, onnxruntime, openvino, bf16")
    ap.add_argument("--json", help="result file (default prn-bench-CONFIG.json)")
    ap.add_argument("--work-dir", help="keep bundle, tiles, maps and ONNX file here (default: a temporary dir)")
    ap.add_argument("--tool", required=True, help="prn-bench-forward")
    ap.add_argument("--element-tool", default="", help="prn-bench-element")
    ap.add_argument("--plugin-path", default="", help="prepended to GST_PLUGIN_PATH")
    a = ap.parse_args()
    d = DEFAULTS[a.config]
    a.tiles = a.tiles or d["tiles"]
    a.tile_rows = a.tile_rows or d["tile_rows"]
    a.images = d["images"] if a.images is None else a.images
    a.skip = {s for s in a.skip.split(",") if s}
    unknown = a.skip - {"element", "torch", "onnxruntime", "openvino", "bf16"}
    if unknown:
        ap.error(f"--skip: unknown {sorted(unknown)}")
    if min(a.tiles, a.batch, a.threads, a.rounds, a.tile_rows) < 1 or a.images < 0:
        ap.error("expected --tiles, --batch, --threads, --rounds, --tile-rows >= 1 and --images >= 0")
    if 0 < a.images < 6:
        ap.error(f"--images {a.images}: the bf16 accuracy set needs at least 6 images (half with defects), or 0")
    json_path = a.json or f"prn-bench-{a.config}.json"
    with tempfile.TemporaryDirectory(prefix="prn-bench-") as tmp:
        if not a.work_dir:
            a.work_dir = tmp
        os.makedirs(a.work_dir, exist_ok=True)
        res = run_all(a)
    print(table(res))
    with open(json_path, "w") as f:
        json.dump(res, f, indent=1)
    log(f"wrote {json_path}")


if __name__ == "__main__":
    main()
