#!/usr/bin/env bash
# Writes asr/background.txt: the most frequent English words by the unigram
# probabilities of PocketSphinx's own en-us language model, those that are in
# its dictionary, one per line, most frequent first. The recognizer's
# background word loop (asr.Grammar.Background) models speech outside a
# step's grammar with them. Needs sphinxbase-utils (sphinx_lm_convert).
#
#   scripts/gen-background.sh [COUNT]
set -euo pipefail
count=${1:-3000}
model=${MODEL_DIR:-$(pkg-config --variable=modeldir pocketsphinx 2>/dev/null || echo /usr/share/pocketsphinx/model)/en-us}
command -v sphinx_lm_convert >/dev/null || { echo "gen-background: sphinx_lm_convert not found (apt-get install sphinxbase-utils)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# The converter writes the unigrams, then fails an assertion on this model's
# trigrams and aborts with the tail of its output unflushed: only the
# unigram section, nearly all of it, is there and read.
sh -c 'sphinx_lm_convert -i "$1" -o "$2" -ofmt arpa; :' sh "$model/en-us.lm.bin" "$tmp/lm.arpa" >/dev/null 2>&1
[ "$(wc -l <"$tmp/lm.arpa")" -gt $((count * 10)) ] || { echo "gen-background: too few unigrams read from $model/en-us.lm.bin" >&2; exit 1; }
awk '{w=$1; sub(/\(.*/, "", w); print w}' "$model/cmudict-en-us.dict" | sort -u >"$tmp/dict"
awk '/^\\1-grams:/{f=1; next} /^\\2-grams:/{exit} f && NF >= 2 {print $1, $2}' "$tmp/lm.arpa" |
  sort -g -r -k1,1 | awk '{print $2}' | grep -E "^[a-z][a-z']*$" |
  awk -v n="$count" 'NR==FNR {d[$1]=1; next} d[$1] && n-- > 0' "$tmp/dict" - >asr/background.txt
echo "gen-background: $(wc -l <asr/background.txt) words in asr/background.txt"
