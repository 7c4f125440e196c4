#!/usr/bin/python3
"""Does this aravis hand out camera memory it refills while the pipeline holds it?

aravissrc wraps aravis's stream buffers in GstBuffers and gives each stream
buffer back to aravis at once (aravis issue 367), so aravis may fill it again
while a GstBuffer still points at it. This keeps every buffer of a short
stream, checksums the kept ones again as each new frame arrives, and prints
after how many further frames a kept buffer's pixels changed, for a few
`num-arv-buffers` values. Needs Debian's python3-gi and gir1.2-gstreamer-1.0.

  scripts/aravis-reuse-check.py                  # starts arv-fake-gv-camera-0.8 on 127.0.0.1
  scripts/aravis-reuse-check.py --camera 10.0.0.5 --width 2048 --lines 64

Measured with Debian 12's aravis 0.8.26 and the simulator, 60 frames of 512 x 64:
num-arv-buffers 4 and 16: every kept frame changed after exactly 4 and 16
further frames; 128: none changed.
"""
import argparse
import hashlib
import os
import signal
import subprocess
import time

import gi

gi.require_version("Gst", "1.0")
from gi.repository import Gst  # noqa: E402


def checksum(buffer):
    ok, info = buffer.map(Gst.MapFlags.READ)
    if not ok:
        raise RuntimeError("cannot map a buffer")
    digest = hashlib.md5(bytes(info.data)).hexdigest()
    buffer.unmap(info)
    return digest


def run(camera, width, lines, n_arv, frames):
    pipeline = Gst.parse_launch(
        f"aravissrc camera-name={camera} num-arv-buffers={n_arv} num-buffers={frames} ! "
        f"video/x-raw,format=GRAY8,width={width},height={lines} ! fakesink name=sink")
    kept, changed_after = [], {}

    def on_buffer(pad, info):
        buffer = info.get_buffer()
        for j, (old, digest) in enumerate(kept):
            if j not in changed_after and checksum(old) != digest:
                changed_after[j] = len(kept) - j
        kept.append((buffer, checksum(buffer)))
        return Gst.PadProbeReturn.OK

    pipeline.get_by_name("sink").get_static_pad("sink").add_probe(Gst.PadProbeType.BUFFER, on_buffer)
    pipeline.set_state(Gst.State.PLAYING)
    msg = pipeline.get_bus().timed_pop_filtered(120 * Gst.SECOND, Gst.MessageType.EOS | Gst.MessageType.ERROR)
    pipeline.set_state(Gst.State.NULL)
    if msg is None or msg.type != Gst.MessageType.EOS:
        detail = msg.parse_error()[0].message if msg else "no EOS within 120 s"
        raise SystemExit(f"aravis-reuse-check: the stream from camera '{camera}' failed: {detail}")
    ages = sorted(changed_after.values())
    span = f"after {ages[0]}..{ages[-1]} further frames" if ages else "none changed"
    print(f"num-arv-buffers={n_arv}: {len(kept)} frames kept, {len(ages)} changed while kept ({span})")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--camera", help="camera IP address (default: start the simulator on 127.0.0.1)")
    ap.add_argument("--width", type=int, default=512)
    ap.add_argument("--lines", type=int, default=64, help="lines per buffer")
    ap.add_argument("--frames", type=int, default=60)
    ap.add_argument("--arv-buffers", default="4,16,128", help="num-arv-buffers values, comma list")
    a = ap.parse_args()
    Gst.init(None)
    sim = None
    if a.camera is None:
        sim = subprocess.Popen(["arv-fake-gv-camera-0.8", "-i", "127.0.0.1"], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
        time.sleep(1.0)
    try:
        for n in (int(v) for v in a.arv_buffers.split(",")):
            run(a.camera or "127.0.0.1", a.width, a.lines, n, a.frames)
    finally:
        if sim is not None:
            os.killpg(sim.pid, signal.SIGTERM)
            sim.wait()


if __name__ == "__main__":
    main()
