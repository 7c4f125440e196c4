#!/usr/bin/env bash
# A live line camera -> prnanomaly -> overlay -> display, with the detections
# as JSON lines.
#
#   pipelines/live-line.sh MODEL [--camera ADDRESS] [--width W] [--lines N]
#                                [--sink "SINK"] [--jsonl FILE] [prnanomaly properties...]
#
# --camera: a GigE Vision camera through aravissrc (give its IP address, e.g.
#   127.0.0.1 for arv-fake-gv-camera-0.8; a name found by discovery may make the
#   camera stream to another interface). Without --camera: videotestsrc as a
#   live stand-in. --width/--lines: the camera's width and lines per buffer
#   (default 2048 x 64). --sink: default autovideosink (fakesink when headless).
set -euo pipefail
if [ $# -lt 1 ]; then
  sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
fi
model=$1
shift
camera="" width=2048 lines=64 sink="autovideosink sync=false" jsonl=/dev/null props=()
while [ $# -gt 0 ]; do
  case "$1" in
    --camera) camera=$2; shift 2 ;;
    --width) width=$2; shift 2 ;;
    --lines) lines=$2; shift 2 ;;
    --sink) sink=$2; shift 2 ;;
    --jsonl) jsonl=$2; shift 2 ;;
    *) props+=("$1"); shift ;;
  esac
done
[ -f "$model" ] || { echo "live-line: model bundle '$model' does not exist" >&2; exit 2; }
if [ -n "$camera" ]; then
  # aravis reuses a stream buffer after num-arv-buffers frames even while the
  # pipeline holds it (aravis issue 367): more than the queue (64) plus what
  # prnanomaly holds (docs/operator-guide.md).
  src="aravissrc camera-name=$camera num-arv-buffers=256"
else
  src="videotestsrc is-live=true pattern=gradient"
fi
# shellcheck disable=SC2086
exec gst-launch-1.0 -m -e $src ! video/x-raw,format=GRAY8,width="$width",height="$lines" \
  ! queue max-size-buffers=64 ! prnanomaly model="$model" "${props[@]}" \
  ! prnjsonlines location="$jsonl" \
  ! videoconvert ! prnoverlay ! videoconvert ! $sink
