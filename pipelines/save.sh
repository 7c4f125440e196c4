#!/usr/bin/env bash
# Anomalous frames to a folder: any GStreamer source description -> prnanomaly
# -> prnsave, which writes each anomalous frame as PNG, its heatmap in colour and
# a JSON file of its results, keeping the newest PRN_SAVE_MAX_FILES sets (10000).
#
#   pipelines/save.sh MODEL FOLDER "SOURCE ! ... " [prnanomaly properties...]
#
# e.g. pipelines/save.sh model.prn /var/lib/line7/defects \
#        "filesrc location=web.png ! pngdec ! videoconvert ! video/x-raw,format=GRAY8"
# At EOS gst-launch -m prints a "prnsave" message with the counts (saved,
# failed, dropped), after one "prnsave-file" message per set with its paths.
set -euo pipefail
if [ $# -lt 3 ]; then
  sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
fi
model=$1 folder=$2 source=$3
shift 3
[ -f "$model" ] || { echo "save: model bundle '$model' does not exist" >&2; exit 2; }
# shellcheck disable=SC2086
exec gst-launch-1.0 -m -e $source ! prnanomaly model="$model" "$@" \
  ! prnsave location="$folder" max-files="${PRN_SAVE_MAX_FILES:-10000}" ! fakesink
