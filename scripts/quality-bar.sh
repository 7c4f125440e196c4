#!/usr/bin/env bash
# The quality bar of issue 3 (the 'slow' suite's meson test 'quality-bar' runs it):
#   on the project's generated line-scan dataset, a short CPU training of the light
#   configuration reaches Image-AUROC >= 0.95 and Pixel-AUROC >= 0.95 on held-out
#   images whose defects come from kinds the training never saw as extended anomalies.
#
#   scripts/quality-bar.sh [--steps N] [--pretrain-steps N] [--backbone FILE] [--out DIR]
#                          [-- extra prn-train options]
#   (defaults: 1200 PRN steps, 1500 pretraining steps, out/quality-bar)
#
# The seen anomalies (extended anomalies) come from 'hole' and 'scratch' only; the
# evaluation keeps the normal test images and the 'spot' and 'fold' kinds
# (prn-eval --kinds unseen). Foreign textures for the simulated anomalies: GIMP's
# patterns. Batch 8 normal + 2 extended + 6 simulated: the simulated anomalies are
# what teaches kinds never seen (8,4,4 met the bar with one seed of two). The
# encoder: --backbone FILE (torchvision's ImageNet resnet18, or an
# earlier run's texture18.pth), else pretrained here on GIMP's patterns and
# scikit-image's photographs with the paper left out (prn-pretrain-backbone,
# --pretrain-steps, about 5 minutes for 1500 with --precision auto on the machines
# measured, docs/training.md). Outputs (dataset, pretrained
# encoder, bundle, loss curve, metrics, overlays, curves) stay in DIR (default
# out/quality-bar) for a person to look at. Exit 0 when the bar is
# met, 1 when not. Results so far: docs/training.md, "Quality bar".
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
build="${PRN_BUILD_DIR:-$root/build}"
out="$root/out/quality-bar"
steps=1200
pretrain_steps=1500
backbone=""
while [ $# -gt 0 ]; do
  case "$1" in
    --steps) steps="$2"; shift 2 ;;
    --pretrain-steps) pretrain_steps="$2"; shift 2 ;;
    --backbone) backbone="$(realpath -m "$2")"; shift 2 ;;
    --out) out="$(realpath -m "$2")"; shift 2 ;;
    --) shift; break ;;
    -h|--help) sed -n '2,23p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "quality-bar: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
make_linescan="$build/train-cli/prn-make-linescan" train="$build/train-cli/prn-train" eval="$build/train-cli/prn-eval"
pretrain="$build/train-cli/prn-pretrain-backbone"
for f in "$make_linescan" "$pretrain" "$train" "$eval"; do
  [ -x "$f" ] || { echo "quality-bar: '$f' is missing: build first (scripts/test.sh or ninja -C $build)" >&2; exit 1; }
done
texture=/usr/share/gimp/2.0/patterns/Paper/paper.pat
patterns=/usr/share/gimp/2.0/patterns
for f in "$texture" "$patterns"; do
  [ -e "$f" ] || { echo "quality-bar: '$f' is missing: install Debian's gimp-data (scripts/setup.sh does)" >&2; exit 1; }
done
if [ -n "$backbone" ]; then
  [ -f "$backbone" ] || { echo "quality-bar: --backbone '$backbone' is not a file" >&2; exit 2; }
  case "$backbone" in "$out"/*)
    echo "quality-bar: --backbone '$backbone' lies in the output folder, which is replaced: copy it elsewhere first" >&2
    exit 2 ;;
  esac
fi
# A previous run's folder is replaced; any other existing folder is left alone.
if [ -e "$out" ] && [ ! -f "$out/.quality-bar" ]; then
  echo "quality-bar: '$out' exists and is not a quality-bar output folder: choose another --out" >&2
  exit 2
fi
rm -rf "$out"
mkdir -p "$out"
touch "$out/.quality-bar"
"$make_linescan" --out "$out/data" --category paper --texture "$texture" --width 1024 --lines 6144 --tile 128 \
  --train-normal 120 --test-normal 40 --test-per-kind 16 --seed 3 >"$out/make-linescan.log"
if [ -z "$backbone" ]; then
  backbone="$out/texture18.pth"
  # 64-px crops with seed 1, as the demo: faster than the default 96 px and better here (docs/training.md).
  "$pretrain" --out "$backbone" --exclude Paper/paper.pat --steps "$pretrain_steps" --crop 64 --seed 1 \
    >"$out/pretrain-backbone.log"
fi
"$train" --data "$out/data/paper" --out "$out/paper.prn" --config light --steps "$steps" --batch 8,2,6 --lr 1e-3 \
  --seen-kinds hole,scratch --textures "$patterns" --seed 1 --backbone "$backbone" --log-dir "$out/train" "$@"
"$eval" --bundle "$out/paper.prn" --data "$out/data/paper" --kinds unseen --out "$out/eval" --overlays 8
# metrics.csv: category,model_id,bundle,data,evaluated,normal,anomalous,seen_removed,image_auroc,pixel_auroc,...
awk -F, -v min=0.95 '
  $1 == "mean" {
    found = 1
    printf "quality bar: Image-AUROC %.4f, Pixel-AUROC %.4f on unseen kinds (%d normal + %d anomalous images); need >= %.2f each\n", $9, $10, $6, $7, min
    if ($9 + 0 < min || $10 + 0 < min) { print "quality bar: NOT MET"; exit 1 }
    print "quality bar: met"
  }
  END { if (!found) { print "quality bar: no mean row in metrics.csv"; exit 1 } }' "$out/eval/metrics.csv"
