#!/usr/bin/env bash
# Measures the rejection trade of the recognizer on held-out corpora, with
# and without the phone-channel MLLR, over the acoustic-gap limits, and
# draws it: intent accuracy against false accepts, one line per corpus and
# model (docs/asr-trade.svg).
#
#   scripts/asr-trade.sh OUT.tsv OUT.svg CORPUS_DIR...
#
# Corpora come from scripts/gen-corpus.sh (e.g. /tmp/c99 3 99). Each point is
# one `ivr asr eval --json --concurrency 2`; about 35 s each for 237 clips.
set -euo pipefail
tsv=$1 svg=$2
shift 2
[ $# -gt 0 ] || { echo "usage: scripts/asr-trade.sh OUT.tsv OUT.svg CORPUS_DIR..." >&2; exit 2; }
command -v jq >/dev/null || { echo "asr-trade: jq not found" >&2; exit 1; }
ivr=${IVR:-bin/ivr}
[ -x "$ivr" ] || go build -o "$ivr" ./cmd/ivr
gaps=(-1 60 50 40)
total=$(($# * 2 * ${#gaps[@]}))
n=0
printf 'corpus\tmodel\tgap\tintent_accuracy\tfalse_accept_rate\trtf\n' >"$tsv"
for dir in "$@"; do
  for model in none embedded; do
    mllr=(); [ "$model" = none ] && mllr=(--mllr none)
    for gap in "${gaps[@]}"; do
      n=$((n + 1))
      r=$("$ivr" asr eval --json --concurrency 2 "${mllr[@]}" --max-acoustic-gap "$gap" "$dir" 2>/dev/null |
        jq -r '[.intent_accuracy, .false_accept_rate, .rtf] | @tsv')
      printf '%s\t%s\t%s\t%s\n' "$(basename "$dir")" "$model" "$gap" "$r" >>"$tsv"
      echo "asr-trade: [$n/$total] $(basename "$dir") mllr=$model gap=$gap: $r" >&2
    done
  done
done
python3 scripts/plot-trade.py "$tsv" "$svg"
echo "asr-trade: wrote $tsv and $svg" >&2
