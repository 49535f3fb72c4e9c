#!/usr/bin/env bash
# Regenerates the small corpus slice committed for CI (testdata/corpus-ci):
# one clip per phrase from scripts/gen-corpus.sh with its own seed, stored
# as 8 kHz mu-law WAV (half the size; the eval reads any WAV format).
set -euo pipefail
out=testdata/corpus-ci
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
scripts/gen-corpus.sh "$tmp" 1 7 >/dev/null
rm -rf "$out" && mkdir -p "$out/clips"
cp "$tmp/corpus.tsv" "$out/corpus.tsv"
for f in "$tmp"/clips/*.wav; do
  sox -R -q "$f" -e u-law -b 8 "$out/clips/$(basename "$f")"
done
echo "corpus-ci: $(($(wc -l <"$out/corpus.tsv") - 1)) clips in $out ($(du -sh "$out" | cut -f1))"
