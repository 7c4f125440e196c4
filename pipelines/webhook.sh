#!/usr/bin/env bash
# Detections to an HTTP(S) endpoint: any GStreamer source description ->
# prnanomaly -> prnwebhook, one JSON POST per anomalous region.
#
#   pipelines/webhook.sh MODEL URL "SOURCE ! ... " [prnanomaly properties...]
#
# e.g. pipelines/webhook.sh model.prn https://mes.plant/api/defects \
#        "filesrc location=web.png ! pngdec ! videoconvert ! video/x-raw,format=GRAY8"
# PRN_WEBHOOK_HEADER="Authorization: Bearer ..." adds a header. At EOS gst-launch
# -m prints a "prnwebhook" message with the counts (posted, failed, dropped).
set -euo pipefail
if [ $# -lt 3 ]; then
  sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
fi
model=$1 url=$2 source=$3
shift 3
[ -f "$model" ] || { echo "webhook: model bundle '$model' does not exist" >&2; exit 2; }
header=()
[ -n "${PRN_WEBHOOK_HEADER:-}" ] && header=(header="$PRN_WEBHOOK_HEADER")
# shellcheck disable=SC2086
exec gst-launch-1.0 -m -e $source ! prnanomaly model="$model" "$@" \
  ! prnwebhook location="$url" "${header[@]}" ! fakesink
