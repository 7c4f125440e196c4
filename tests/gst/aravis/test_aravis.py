#!/usr/bin/env python3
"""A real GigE Vision line source: Debian's arv-fake-gv-camera-0.8 on 127.0.0.1,
streamed through `aravissrc ! prnanomaly ! prnjsonlines`, with the metadata of
every buffer checked; then the simulator is stopped.

The camera is named by its address (camera-name=127.0.0.1): named by its
discovered name, aravis may tell it to stream to another interface, not to
loopback (docs/operator-guide.md). Skipped (exit 77) only where the aravis
plugin or the simulator is not installed.

Environment: PRN_TEST_BUNDLE and an isolated GStreamer registry (tests/gst/meson.build)."""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

BUNDLE = os.environ["PRN_TEST_BUNDLE"]
SIMULATOR = "arv-fake-gv-camera-0.8"
WIDTH, LINES, BUFFERS = 2048, 64, 12


def aravis_available():
    if shutil.which(SIMULATOR) is None:
        return f"{SIMULATOR} is not installed (Debian package aravis-tools)"
    p = subprocess.run(["gst-inspect-1.0", "aravissrc"], capture_output=True, text=True)
    if p.returncode != 0:
        return "the aravissrc element is not installed (Debian package libaravis-0.8-0)"
    return None


def gvcp_port_free():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.bind(("127.0.0.1", 3956))
        return True
    except OSError:
        return False
    finally:
        s.close()


class Aravis(unittest.TestCase):
    def setUp(self):
        self.assertTrue(gvcp_port_free(), "UDP 127.0.0.1:3956 (GigE Vision control) is busy: is another camera "
                                          "simulator running?")
        self.sim = subprocess.Popen([SIMULATOR, "-i", "127.0.0.1"], stdout=subprocess.PIPE,
                                    stderr=subprocess.STDOUT, start_new_session=True)
        time.sleep(1.0)
        self.assertIsNone(self.sim.poll(), "the camera simulator exited at start")

    def tearDown(self):
        os.killpg(self.sim.pid, signal.SIGTERM)
        try:
            self.sim.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.sim.pid, signal.SIGKILL)
            self.sim.wait()

    def test_strips_from_the_camera_get_metadata_on_every_buffer(self):
        with tempfile.TemporaryDirectory() as out:
            jsonl = os.path.join(out, "buffers.jsonl")
            launch = ["gst-launch-1.0", "-e",
                      "aravissrc", "camera-name=127.0.0.1", f"num-buffers={BUFFERS}", "!",
                      f"video/x-raw,format=GRAY8,width={WIDTH},height={LINES}", "!",
                      "queue", "max-size-buffers=0", "max-size-bytes=0", "max-size-time=0", "!",
                      "prnanomaly", f"model={BUNDLE}", "!",
                      "prnjsonlines", f"location={jsonl}", "what=buffers", "!", "fakesink"]
            p = subprocess.run(launch, capture_output=True, text=True, timeout=300)
            self.assertEqual(p.returncode, 0, f"{' '.join(launch)}\n{p.stdout[-3000:]}\n{p.stderr[-3000:]}")
            with open(jsonl) as f:
                buffers = [json.loads(line) for line in f if line.strip()]
            self.assertEqual(len(buffers), BUFFERS, "one meta per camera buffer")
            for i, b in enumerate(buffers):
                self.assertEqual(b["kind"], "buffer")
                self.assertEqual(b["rows"], LINES)
                self.assertEqual(b["row_offset"], i * LINES, "the strips are one continuous web")
                self.assertTrue(0.0 <= b["score"] <= 1.0)
                self.assertIsNotNone(b["pts"], "aravissrc timestamps its buffers")
                self.assertTrue(b["model_id"].startswith("plainweb-"))
            pts = [b["pts"] for b in buffers]
            self.assertEqual(pts, sorted(pts))


if __name__ == "__main__":
    why = aravis_available()
    if why:
        print(f"SKIP: {why}")
        sys.exit(77)
    unittest.main(verbosity=2)
