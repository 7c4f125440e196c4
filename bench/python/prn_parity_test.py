"""Parity test (meson suite 'bench'): the C++ forward, the Python reference
(prn_reference.py) and ONNX Runtime on its ONNX export give the same anomaly maps
within 1e-4 for the light configuration, same bundle, same tiles.

    prn_parity_test.py --tool build/bench/prn-bench-forward [--tolerance 1e-4] [--keep DIR]
"""
import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import prn_reference  # noqa: E402

TILES = 4


def run(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"FAIL: {' '.join(cmd)} exited {p.returncode}:\n{p.stdout}\n{p.stderr}")
    return p.stdout


def compare(name, got, want, tol):
    if got.shape != want.shape:
        print(f"FAIL {name}: shape {got.shape}, expected {want.shape}")
        return False
    diff = float(np.abs(got - want).max())
    ok = diff <= tol
    print(f"{'ok  ' if ok else 'FAIL'} {name}: max abs diff {diff:.3g} (tolerance {tol:g})")
    return ok


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tool", required=True, help="prn-bench-forward")
    ap.add_argument("--tolerance", type=float, default=1e-4)
    ap.add_argument("--keep", help="work in this folder and keep its files")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="prn-parity-") as tmp:
        work = a.keep or tmp
        os.makedirs(work, exist_ok=True)
        bundle, tiles, cpp = (os.path.join(work, n) for n in ("light.prn", "tiles.f32", "maps-cpp.f32"))
        run([a.tool, "make-bundle", "--config", "light", "--out", bundle, "--seed", "5"])
        run([a.tool, "tiles", "--size", "128", "--count", str(TILES), "--out", tiles])
        run([a.tool, "forward", "--bundle", bundle, "--input", tiles, "--output", cpp])
        x = np.fromfile(tiles, "<f4").reshape(TILES, 3, 128, 128)
        want = np.fromfile(cpp, "<f4")
        if want.size != TILES * 128 * 128:
            sys.exit(f"FAIL: C++ maps '{cpp}' hold {want.size} values, expected {TILES}x1x128x128")
        want = want.reshape(TILES, 1, 128, 128)

        model, _ = prn_reference.load_reference(bundle)
        with torch.inference_mode():
            ref = model(torch.from_numpy(x)).numpy()
        ok = compare("Python reference vs C++ forward", ref, want, a.tolerance)

        # The comparison must be able to fail: a small change of the network (the
        # output bias +0.05) must move the maps by far more than the tolerance.
        with torch.inference_mode():
            model.decoder.out.bias += 0.05
            moved = float(np.abs(model(torch.from_numpy(x)).numpy() - want).max())
            model.decoder.out.bias -= 0.05
        sensitive = moved > 10 * a.tolerance
        print(f"{'ok  ' if sensitive else 'FAIL'} sensitivity: output bias +0.05 moves the maps by {moved:.3g}")
        ok = ok and sensitive

        onnx_path = os.path.join(work, "light.onnx")
        try:
            import onnxruntime as ort
        except ImportError as e:
            sys.exit(f"FAIL: onnxruntime is not installed in {sys.executable} ({e}); run scripts/setup.sh "
                     "(scripts/requirements.txt pins it)")
        torch.onnx.export(model, (torch.from_numpy(x),), onnx_path, input_names=["tiles"], output_names=["maps"],
                          dynamo=True, verbose=False)
        so = ort.SessionOptions()
        so.intra_op_num_threads = 1
        sess = ort.InferenceSession(onnx_path, so, providers=["CPUExecutionProvider"])
        ok = compare("ONNX Runtime (export of the reference) vs C++ forward", sess.run(None, {"tiles": x})[0], want,
                     a.tolerance) and ok
    if not ok:
        sys.exit(1)


if __name__ == "__main__":
    main()
