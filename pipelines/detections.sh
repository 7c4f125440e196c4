#!/usr/bin/env bash
# Detections only: any GStreamer source description -> prnanomaly -> JSON lines.
#
#   pipelines/detections.sh MODEL OUT.jsonl "SOURCE ! ... " [prnanomaly properties...]
#
# e.g. pipelines/detections.sh model.prn det.jsonl \
#        "filesrc location=web.png ! pngdec ! videoconvert ! video/x-raw,format=GRAY8"
# One JSON object per anomalous region (see docs/element.md); what=buffers for
# one per buffer: pass it as PRN_JSONL_WHAT=buffers.
set -euo pipefail
if [ $# -lt 3 ]; then
  sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
fi
model=$1 out=$2 source=$3
shift 3
[ -f "$model" ] || { echo "detections: model bundle '$model' does not exist" >&2; exit 2; }
# shellcheck disable=SC2086
exec gst-launch-1.0 -e $source ! prnanomaly model="$model" "$@" \
  ! prnjsonlines location="$out" what="${PRN_JSONL_WHAT:-regions}" ! fakesink
