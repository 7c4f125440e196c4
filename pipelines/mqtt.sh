#!/usr/bin/env bash
# Detections to an MQTT broker: any GStreamer source description -> prnanomaly ->
# prnmqtt, one JSON message per anomalous region on TOPIC.
#
#   pipelines/mqtt.sh MODEL BROKER[:PORT] TOPIC "SOURCE ! ... " [prnanomaly properties...]
#
# e.g. pipelines/mqtt.sh model.prn broker.plant:1883 line7/defects \
#        "filesrc location=web.png ! pngdec ! videoconvert ! video/x-raw,format=GRAY8"
# Watch with: mosquitto_sub -h broker.plant -t 'line7/#' -v. At EOS gst-launch -m
# prints a "prnmqtt" message with the counts (published, delivered, dropped).
set -euo pipefail
if [ $# -lt 4 ]; then
  sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
fi
model=$1 broker=$2 topic=$3 source=$4
shift 4
[ -f "$model" ] || { echo "mqtt: model bundle '$model' does not exist" >&2; exit 2; }
host=${broker%:*} port=1883
[ "$host" != "$broker" ] && port=${broker##*:}
case "$port" in ''|*[!0-9]*) echo "mqtt: expected BROKER or BROKER:PORT with a numeric port, got '$broker'" >&2; exit 2 ;; esac
# shellcheck disable=SC2086
exec gst-launch-1.0 -m -e $source ! prnanomaly model="$model" "$@" \
  ! prnmqtt host="$host" port="$port" topic="$topic" ! fakesink
