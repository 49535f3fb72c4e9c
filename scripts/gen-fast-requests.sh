#!/usr/bin/env bash
# Synthesises fast requests for a person (espeak-ng at 200, 230 and 260
# words a minute, three voices, eight phrasings) as an `ivr asr eval`
# corpus at 8 kHz G.711 mu-law: the check that a rejection rule does not
# turn a caller who speaks fast into a no-match (asr.DefaultMinPhoneFrames).
#
#   scripts/gen-fast-requests.sh [OUT_DIR]
#   ivr asr eval OUT_DIR
#
# Needs espeak-ng and sox.
set -euo pipefail
out=${1:-testdata/fast-requests}
for t in espeak-ng sox; do
  command -v "$t" >/dev/null || { echo "gen-fast-requests: $t not found (scripts/install-deps.sh)" >&2; exit 1; }
done
mkdir -p "$out/clips"
rm -f "$out"/clips/*.wav
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf 'path\tstep\tintent\ttext\n' >"$out/corpus.tsv"
phrases=("agent" "representative" "operator" "a real person" "i want to talk to an agent"
  "get me a human" "customer service" "talk to someone")
i=0
for speed in 200 230 260; do
  for voice in en-us en-us+f2 en-gb-x-rp+m3; do
    for p in "${phrases[@]}"; do
      i=$((i + 1))
      name=$(printf 'clips/fast-%03d.wav' "$i")
      espeak-ng -v "$voice" -s "$speed" -w "$tmp/raw.wav" "$p"
      sox -R -q "$tmp/raw.wav" -r 8000 -c 1 -b 16 "$tmp/s.wav" norm -1 vol 0.4 pad 0.2 0.3
      sox -R -q "$tmp/s.wav" -e u-law -b 8 "$out/$name"
      printf '%s\tmain\tagent\t%s\n' "$name" "$p" >>"$out/corpus.tsv"
    done
  done
done
echo "gen-fast-requests: $i clips in $out"
