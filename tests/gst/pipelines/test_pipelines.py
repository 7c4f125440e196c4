#!/usr/bin/env python3
"""The pipelines of pipelines/ run with the real gst-launch-1.0 and their
output is checked: the fixture web with three planted defects is scored, the
overlay PNG and the JSON-lines detections are read back, the detections are
published to a real MQTT broker (mosquitto) and POSTed to an HTTP server, the
anomalous frame is saved to a folder, and gst-inspect-1.0 documents every
property of prnanomaly.

Environment: PRN_PIPELINES_DIR, PRN_TEST_BUNDLE, PRN_TEST_WEB, and an isolated
GStreamer registry (see tests/gst/meson.build)."""
import http.server
import json
import os
import re
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import unittest

PIPELINES = os.environ["PRN_PIPELINES_DIR"]
BUNDLE = os.environ["PRN_TEST_BUNDLE"]
WEB = os.environ["PRN_TEST_WEB"]
# The defects make_test_bundle.cpp plants in the web PNG: x, y, width, height.
PLANTED = [(100, 120, 30, 24), (400, 380, 20, 40), (560, 600, 40, 16)]


def png_size(path):
    with open(path, "rb") as f:
        head = f.read(24)
    assert head[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return struct.unpack(">II", head[16:24])


def png_colour_type(path):
    with open(path, "rb") as f:
        return f.read(26)[25]


def iou(a, b):
    x0, y0 = max(a[0], b[0]), max(a[1], b[1])
    x1, y1 = min(a[0] + a[2], b[0] + b[2]), min(a[1] + a[3], b[1] + b[3])
    inter = max(0, x1 - x0) * max(0, y1 - y0)
    return inter / (a[2] * a[3] + b[2] * b[3] - inter)


class Pipelines(unittest.TestCase):
    def run_script(self, *args, timeout=600):
        p = subprocess.run([os.path.join(PIPELINES, args[0]), *args[1:]], capture_output=True, text=True,
                           timeout=timeout)
        self.assertEqual(p.returncode, 0, f"{args} failed:\n{p.stdout[-3000:]}\n{p.stderr[-3000:]}")
        return p

    def test_score_file_finds_the_planted_defects(self):
        with tempfile.TemporaryDirectory() as out:
            p = self.run_script("score-file.sh", BUNDLE, WEB, out)
            overlay = os.path.join(out, "overlay-00000.png")
            self.assertEqual(png_size(overlay), png_size(WEB))
            self.assertIn(png_colour_type(overlay), (2, 6), "the overlay of a grey web is in colour")
            with open(os.path.join(out, "detections.jsonl")) as f:
                lines = [json.loads(line) for line in f if line.strip()]
            boxes = [(d["x"], d["row_offset"], d["width"], d["height"]) for d in lines if d["kind"] == "region"]
            for planted in PLANTED:
                best = max((iou(planted, b) for b in boxes), default=0)
                self.assertGreaterEqual(best, 0.5, f"planted {planted} not found in {boxes}")
            self.assertEqual(len(boxes), len(PLANTED), f"false alarms: {boxes}")
            # gst-launch-1.0 -m prints one element message per region.
            self.assertEqual(p.stdout.count("prnanomaly-region"), len(PLANTED), p.stdout[-2000:])

    def test_strip_sequence_is_one_web(self):
        """The same web cut into strips of 64 rows (strip-%05d.png) gives the same regions."""
        with tempfile.TemporaryDirectory() as out:
            strips = os.path.join(out, "strips")
            os.mkdir(strips)
            from skimage import io  # the test Python (PRN_TEST_PYTHON) has scikit-image
            web = io.imread(WEB)
            h, rows_per_strip = web.shape[0], 64
            for i in range(h // rows_per_strip):
                io.imsave(os.path.join(strips, f"strip-{i:05d}.png"),
                          web[i * rows_per_strip:(i + 1) * rows_per_strip], check_contrast=False)
            res = os.path.join(out, "res")
            self.run_script("score-file.sh", BUNDLE, os.path.join(strips, "strip-%05d.png"), res)
            self.assertEqual(len([n for n in os.listdir(res) if n.startswith("overlay-")]), h // rows_per_strip)
            with open(os.path.join(res, "detections.jsonl")) as f:
                lines = [json.loads(line) for line in f if line.strip()]
            boxes = [(d["x"], d["row_offset"], d["width"], d["height"]) for d in lines if d["kind"] == "region"]
            for planted in PLANTED:
                self.assertGreaterEqual(max((iou(planted, b) for b in boxes), default=0), 0.5,
                                        f"planted {planted} not found in {boxes}")

    def test_detections_pipeline_writes_json_lines(self):
        with tempfile.TemporaryDirectory() as out:
            path = os.path.join(out, "det.jsonl")
            self.run_script("detections.sh", BUNDLE, path,
                            f"filesrc location={WEB} ! pngdec ! videoconvert ! video/x-raw,format=GRAY8")
            with open(path) as f:
                kinds = [json.loads(line)["kind"] for line in f if line.strip()]
            self.assertEqual(kinds, ["region"] * len(PLANTED))

    def test_live_line_pipeline_runs_headless(self):
        with tempfile.TemporaryDirectory() as out:
            path = os.path.join(out, "live.jsonl")
            p = self.run_script("live-line.sh", BUNDLE, "--width", "256", "--lines", "32", "--sink",
                                "fakesink num-buffers=20", "--jsonl", path, "messages=buffers")
            # The model scored the live buffers: one bus message per scored buffer
            # (prnanomaly's extra argument), and the detections file is JSON lines.
            scored = p.stdout.count("prnanomaly-buffer")
            self.assertGreaterEqual(scored, 10, p.stdout[-2000:])  # 21 measured: the sink's 20 and one at EOS
            self.assertTrue(os.path.isfile(path))
            with open(path) as f:
                for line in f:
                    self.assertEqual(json.loads(line)["kind"], "region")

    def test_mqtt_pipeline_publishes_every_region_to_a_broker(self):
        """pipelines/mqtt.sh against Debian's mosquitto broker on a free loopback port:
        the counts prnmqtt posts at EOS say every planted defect was published and
        acknowledged."""
        broker = shutil.which("mosquitto") or ("/usr/sbin/mosquitto" if os.access("/usr/sbin/mosquitto", os.X_OK)
                                              else None)
        if broker is None:
            self.skipTest("no mosquitto broker (Debian package mosquitto; scripts/setup.sh installs it)")
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        proc = subprocess.Popen([broker, "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            for _ in range(100):
                with socket.socket() as s:
                    if s.connect_ex(("127.0.0.1", port)) == 0:
                        break
                time.sleep(0.05)
            p = self.run_script("mqtt.sh", BUNDLE, f"127.0.0.1:{port}", "line7/defects",
                                f"filesrc location={WEB} ! pngdec ! videoconvert ! video/x-raw,format=GRAY8")
        finally:
            proc.terminate()
            proc.wait(timeout=10)
        m = re.search(r"prnmqtt, published=\(guint64\)(\d+), delivered=\(guint64\)(\d+), "
                      r"dropped=\(guint64\)(\d+), waiting=\(guint64\)(\d+)", p.stdout)
        self.assertIsNotNone(m, p.stdout[-3000:])
        self.assertEqual([int(g) for g in m.groups()], [len(PLANTED), len(PLANTED), 0, 0])

    def test_webhook_pipeline_posts_every_region(self):
        """pipelines/webhook.sh against an HTTP server in this process: one JSON POST per
        planted defect, with the header asked for."""
        bodies, headers = [], []

        class Hook(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                bodies.append(json.loads(self.rfile.read(n)))
                headers.append(self.headers.get("Authorization"))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hook)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            env = dict(os.environ, PRN_WEBHOOK_HEADER="Authorization: Bearer t0k")
            p = subprocess.run([os.path.join(PIPELINES, "webhook.sh"), BUNDLE,
                                f"http://127.0.0.1:{server.server_address[1]}/hook",
                                f"filesrc location={WEB} ! pngdec ! videoconvert ! video/x-raw,format=GRAY8"],
                               capture_output=True, text=True, timeout=600, env=env)
            self.assertEqual(p.returncode, 0, p.stderr[-3000:])
        finally:
            server.shutdown()
            server.server_close()
        self.assertRegex(p.stdout, rf"prnwebhook, posted=\(guint64\){len(PLANTED)}, failed=\(guint64\)0, "
                                   r"dropped=\(guint64\)0")
        self.assertEqual([b["kind"] for b in bodies], ["region"] * len(PLANTED))
        for planted in PLANTED:
            boxes = [(b["x"], b["row_offset"], b["width"], b["height"]) for b in bodies]
            self.assertGreaterEqual(max(iou(planted, b) for b in boxes), 0.5, f"planted {planted} not in {boxes}")
        self.assertEqual(headers, ["Bearer t0k"] * len(PLANTED))

    def test_save_pipeline_writes_the_anomalous_frame_its_heatmap_and_results(self):
        """pipelines/save.sh: the fixture web (one anomalous frame) saved as a grey PNG of
        its size, a colour heatmap of its size and a JSON file with the planted defects."""
        with tempfile.TemporaryDirectory() as out:
            folder = os.path.join(out, "defects")
            p = self.run_script("save.sh", BUNDLE, folder,
                                f"filesrc location={WEB} ! pngdec ! videoconvert ! video/x-raw,format=GRAY8")
            self.assertRegex(p.stdout, r"prnsave, saved=\(guint64\)1, failed=\(guint64\)0, dropped=\(guint64\)0")
            names = sorted(os.listdir(folder))
            self.assertEqual(len(names), 3, names)
            heatmap, meta, image = (os.path.join(folder, n) for n in names)
            self.assertTrue(heatmap.endswith("-heatmap.png") and meta.endswith(".json") and image.endswith(".png"))
            self.assertIn(f"prnsave-file, image=(string){image}", p.stdout)
            self.assertEqual(png_size(image), png_size(WEB))
            self.assertEqual(png_colour_type(image), 0, "grey, as the frame")
            self.assertEqual(png_size(heatmap), png_size(WEB))
            self.assertEqual(png_colour_type(heatmap), 2, "RGB")
            with open(meta) as f:
                result = json.load(f)
            self.assertTrue(result["anomalous"])
            self.assertEqual(result["image"], os.path.basename(image))
            boxes = [(r["x"], r["y"], r["width"], r["height"]) for r in result["regions"]]
            self.assertEqual(len(boxes), len(PLANTED), boxes)
            for planted in PLANTED:
                self.assertGreaterEqual(max(iou(planted, b) for b in boxes), 0.5, f"planted {planted} not in {boxes}")

    def test_gst_inspect_documents_every_property_and_an_example(self):
        p = subprocess.run(["gst-inspect-1.0", "prnanomaly"], capture_output=True, text=True, timeout=120)
        self.assertEqual(p.returncode, 0, p.stderr)
        for prop in ["model", "device", "mode", "scale", "tile-size", "tile-overlap", "batch-size", "threshold",
                     "pixel-threshold", "min-region-area", "max-region-rows", "messages", "max-inflight", "model-id"]:
            self.assertRegex(p.stdout, rf"\n  {prop}\s+: \S", f"property {prop} undocumented")
        self.assertIn("gst-launch-1.0", p.stdout)


if __name__ == "__main__":
    unittest.main(verbosity=2)
