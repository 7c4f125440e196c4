"""The runtimes a user could pick instead of prnanomaly, on the same network, weights
and tiles: PyTorch eager (prn_reference.py), and ONNX Runtime and OpenVINO on an
ONNX export of that reference. Each call runs in a process of its own, so one
runtime's thread pool cannot steal cycles from the next; prints one JSON object.

    prn_peers.py export --bundle B --batch N --out M.onnx
    prn_peers.py time --runtime torch|onnxruntime|openvino --bundle B --tiles X.f32
                      [--onnx M.onnx] [--batch 8] [--repeats 3] [--threads N]
                      [--precision f32|bf16] [--out Y.f32]
    prn_peers.py maps --runtime ... --bundle B --tiles X.f32 --out Y.f32 [--onnx M.onnx]

Tiles are raw little-endian float32 (N, 3, S, S); maps are written as (N, 1, S, S).
ONNX Runtime and OpenVINO run the export with a fixed batch (the --batch it was
exported with); a last partial batch is padded. OpenVINO is told to compute in
f32 (on CPUs with AVX-512 BF16 its default inference precision is bf16) unless
--precision bf16 (OpenVINO only). time --out keeps the maps of the last pass.
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import prn_reference  # noqa: E402


def read_tiles(path, size):
    raw = np.fromfile(path, dtype="<f4")
    per_tile = 3 * size * size
    if raw.size == 0 or raw.size % per_tile:
        raise SystemExit(f"prn_peers: tiles '{path}' hold {raw.size} floats, not a whole number of "
                         f"3x{size}x{size} tiles")
    return raw.reshape(-1, 3, size, size)


def export(bundle, batch, out):
    model, config = prn_reference.load_reference(bundle)
    S = config["input_size"]
    x = torch.rand(batch, 3, S, S, generator=torch.Generator().manual_seed(0))
    t0 = time.perf_counter()
    torch.onnx.export(model, (x,), out, input_names=["tiles"], output_names=["maps"], dynamo=True,
                      verbose=False)
    import onnx
    onnx.checker.check_model(out)
    return {"onnx": out, "batch": batch, "export_s": time.perf_counter() - t0, "torch": torch.__version__,
            "onnx_version": onnx.__version__}


def make_runner(runtime, bundle, onnx_path, threads, precision="f32"):
    """(run(batch ndarray) -> maps ndarray, fixed batch or None, version string)."""
    if precision != "f32" and runtime != "openvino":
        raise SystemExit(f"prn_peers: --precision {precision} is only offered for openvino")
    if runtime == "torch":
        torch.set_num_threads(threads)
        model, _ = prn_reference.load_reference(bundle)

        def run(x):
            with torch.inference_mode():
                return model(torch.from_numpy(x)).numpy()
        return run, None, f"torch {torch.__version__}"
    if not onnx_path:
        raise SystemExit(f"prn_peers: --runtime {runtime} needs --onnx (an export of the same bundle)")
    if runtime == "onnxruntime":
        import onnxruntime as ort
        so = ort.SessionOptions()
        so.intra_op_num_threads = threads
        so.inter_op_num_threads = 1
        so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        sess = ort.InferenceSession(onnx_path, so, providers=["CPUExecutionProvider"])
        shape = sess.get_inputs()[0].shape
        return (lambda x: sess.run(None, {"tiles": x})[0]), int(shape[0]), f"onnxruntime {ort.__version__}"
    if runtime == "openvino":
        import openvino as ov
        core = ov.Core()
        compiled = core.compile_model(core.read_model(onnx_path), "CPU", {
            "INFERENCE_NUM_THREADS": threads, "NUM_STREAMS": 1, "PERFORMANCE_HINT": "LATENCY",
            "INFERENCE_PRECISION_HINT": precision})
        request = compiled.create_infer_request()
        batch = int(compiled.input(0).get_partial_shape()[0].get_length())

        def run(x):
            return request.infer({0: x})[compiled.output(0)].copy()
        return run, batch, f"openvino {ov.__version__}"
    raise SystemExit(f"prn_peers: unknown runtime '{runtime}': expected torch, onnxruntime or openvino")


def batches(tiles, batch, fixed):
    """Consecutive batches of `batch` tiles; padded to the export's fixed batch."""
    if fixed is not None and fixed != batch:
        raise SystemExit(f"prn_peers: the ONNX file was exported for batch {fixed}, asked to run batch {batch}")
    for i in range(0, len(tiles), batch):
        x = tiles[i:i + batch]
        n = len(x)
        if fixed is not None and n < fixed:
            x = np.concatenate([x, np.zeros((fixed - n,) + x.shape[1:], x.dtype)])
        yield np.ascontiguousarray(x), n


def time_runtime(a):
    model_config = prn_reference.parse_config(dict(prn_reference.read_bundle(a.bundle)["config"]))
    tiles = read_tiles(a.tiles, model_config["input_size"])
    run, fixed, version = make_runner(a.runtime, a.bundle, a.onnx, a.threads, a.precision)
    run(next(batches(tiles, a.batch, fixed))[0])  # warm-up
    best = float("inf")
    for _ in range(a.repeats):
        t0 = time.perf_counter()
        out = [run(x)[:n] for x, n in batches(tiles, a.batch, fixed)]
        best = min(best, time.perf_counter() - t0)
    if a.out:
        np.concatenate(out).astype("<f4").tofile(a.out)
    return {"runtime": a.runtime, "version": version, "precision": a.precision, "tiles": len(tiles),
            "batch": a.batch, "seconds": best, "tiles_per_s": len(tiles) / best, "threads": a.threads}


def maps(a):
    model_config = prn_reference.parse_config(dict(prn_reference.read_bundle(a.bundle)["config"]))
    tiles = read_tiles(a.tiles, model_config["input_size"])
    run, fixed, version = make_runner(a.runtime, a.bundle, a.onnx, a.threads, a.precision)
    out = [run(x)[:n] for x, n in batches(tiles, a.batch if fixed is None else fixed, fixed)]
    np.concatenate(out).astype("<f4").tofile(a.out)
    return {"runtime": a.runtime, "version": version, "tiles": len(tiles), "out": a.out}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("command", choices=["export", "time", "maps"])
    ap.add_argument("--runtime", default="torch")
    ap.add_argument("--bundle", required=True)
    ap.add_argument("--tiles")
    ap.add_argument("--onnx")
    ap.add_argument("--out")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--precision", choices=["f32", "bf16"], default="f32")
    a = ap.parse_args()
    if a.batch < 1 or a.repeats < 1 or a.threads < 1:
        raise SystemExit("prn_peers: expected --batch, --repeats and --threads >= 1")
    if a.command == "export":
        if not a.out:
            raise SystemExit("prn_peers: export needs --out M.onnx")
        result = export(a.bundle, a.batch, a.out)
    else:
        if not a.tiles or (a.command == "maps" and not a.out):
            raise SystemExit(f"prn_peers: {a.command} needs --tiles" + (" and --out" if a.command == "maps" else ""))
        result = time_runtime(a) if a.command == "time" else maps(a)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
