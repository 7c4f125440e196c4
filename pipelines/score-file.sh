#!/usr/bin/env bash
# A file or an image sequence -> prnanomaly -> overlay -> PNG(s), and the
# detections as JSON lines.
#
#   pipelines/score-file.sh MODEL INPUT OUT_DIR [prnanomaly properties...]
#
# INPUT: one image (web.png: scored as one continuous web) or a printf pattern of
# consecutive strips of a web (strip-%05d.png: each strip one buffer, the web
# continues across them). Writes OUT_DIR/overlay-%05d.png and
# OUT_DIR/detections.jsonl; prints one bus message per anomalous region (-m).
# Extra arguments are prnanomaly properties, e.g. threshold=0.6 mode=frame.
set -euo pipefail
if [ $# -lt 3 ]; then
  sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
fi
model=$1 input=$2 out=$3
shift 3
[ -f "$model" ] || { echo "score-file: model bundle '$model' does not exist" >&2; exit 2; }
mkdir -p "$out"
if [[ "$input" == *%* ]]; then
  # shellcheck disable=SC2059
  first=$(printf "$input" 0)
  [ -f "$first" ] || { echo "score-file: no first image '$first' for pattern '$input'" >&2; exit 2; }
  src=(multifilesrc location="$input" index=0 caps=image/png,framerate=1/1)
else
  [ -f "$input" ] || { echo "score-file: input image '$input' does not exist" >&2; exit 2; }
  src=(filesrc location="$input")
fi
exec gst-launch-1.0 -m -e "${src[@]}" ! pngdec ! videoconvert ! video/x-raw,format=GRAY8 \
  ! prnanomaly model="$model" "$@" \
  ! prnjsonlines location="$out/detections.jsonl" \
  ! videoconvert ! prnoverlay draw=heatmap+boxes ! videoconvert \
  ! pngenc ! multifilesink location="$out/overlay-%05d.png"
