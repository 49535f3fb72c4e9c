#!/usr/bin/env bash
# Regenerates the prompt MP3s in prompts/audio/ from prompts/audio/catalog.tsv.
#
#   scripts/gen-prompts.sh           render what changed (text, or this script)
#   scripts/gen-prompts.sh --force   render everything again
#
# Speech: festival with the cmu_us_slt_arctic_hts voice (Debian festvox-us-slt-hts,
# the most natural English voice Debian ships) → high-pass 100 Hz (rumble and DC
# only: the network band-limits to 300–3400 Hz itself, and a wideband agent leg
# keeps the full voice) → leading/trailing silence trimmed → 5/15 ms fades so
# clips join without clicks → 16 kHz → gain to an active speech level of
# TARGET_DB dBFS (pauses excluded), capped so the peak stays at or below PEAK_DB
# → MP3, MPEG-2 Layer III, 16 kHz mono CBR 40 kbps (lame).
# 16 kHz halves to the 8 kHz line rate exactly and hajimehoshi/go-mp3 v0.3.4
# decodes MPEG-2 (16/22.05/24 kHz) as well as MPEG-1; package prompts checks that
# every file decodes (go test ./prompts/).
# The LAME tag of each file records encoder delay and padding; package prompts
# cuts them, so clips join (and hold music loops) sample-exactly. At 32 kbps a
# 16 kHz frame (144 bytes) is too small for the tag and lame silently omits it;
# 40 kbps (180 bytes) is the smallest CBR rate that keeps it.
#
# Non-speech entries (text in [brackets]) have a generator here: hold_music.
#
# Idempotent: prompts/audio/gen.sum holds a hash of each prompt's text and of
# this script; a prompt whose hash matches and whose MP3 exists is skipped.
# MP3s that are no longer in the catalog are removed.
#
# Needs: festival festvox-us-slt-hts sox lame (scripts/install-deps.sh --voice).
set -euo pipefail

cd "$(dirname "$0")/.."
dir=prompts/audio
catalog=$dir/catalog.tsv
sumfile=$dir/gen.sum

TARGET_DB=-20 # active speech level, dBFS
PEAK_DB=-3    # peak ceiling, dBFS
MUSIC_DB=-26  # hold music RMS, dBFS: well below speech
RATE=16000
KBPS=40 # smallest CBR rate at 16 kHz whose first frame holds the LAME tag
VOICE='(voice_cmu_us_slt_arctic_hts)'

force=0
[ "${1:-}" = "--force" ] && force=1

for tool in text2wave sox lame sha256sum awk; do
  command -v "$tool" >/dev/null || { echo "gen-prompts: $tool not found (scripts/install-deps.sh --voice)" >&2; exit 1; }
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
scriptsum=$(sha256sum "$0" | cut -c1-16)

# stat FILE FIELD [EFFECTS...]: one value of `sox stats` (e.g. "RMS lev dB").
stat() {
  local f=$1 field=$2
  shift 2
  sox "$f" -n "$@" stats 2>&1 | awk -v k="$field" 'index($0, k) == 1 { print $NF }'
}

# encode WAV MP3: the one encoder setting every prompt shares.
encode() {
  lame --quiet --noreplaygain -m m --cbr -b "$KBPS" -q 2 "$1" "$2"
}

# synth TEXT WAV: festival renders TEXT. Words in {braces} are spoken in the
# carrier phrase TEXT and cut out of it at festival's word boundaries: the
# fix for a word the voice garbles on its own ("{fifth} day": HTS clips the
# lone word "fifth" with a loud burst).
synth() {
  local text=$1 out=$2
  case "$text" in
    *'"'* | *'\'*) echo "gen-prompts: quotes and backslashes not allowed: $text" >&2; return 1 ;;
    *'{'*) ;;
    *)
      printf '%s\n' "$text" >"$out.txt"
      text2wave -eval "$VOICE" -o "$out" "$out.txt" >/dev/null 2>&1
      return
      ;;
  esac
  local plain first last span
  plain=$(tr -d '{}' <<<"$text")
  # Index (from 1) of the first and last word inside the braces.
  read -r first last < <(awk '{ n = 0; f = 0; l = 0; inb = 0
    for (i = 1; i <= NF; i++) { n++; if ($i ~ /^\{/) inb = 1; if (inb) { if (!f) f = n; l = n }; if ($i ~ /\}/) inb = 0 }
    print f, l }' <<<"$text")
  cat >"$out.scm" <<SCM
$VOICE
(set! utt (utt.synth (Utterance Text "$plain")))
(utt.save.wave utt "$out.full.wav" 'riff)
(mapcar (lambda (w) (format t "%f %f\n" (item.feat w "word_start") (item.feat w "word_end")))
        (utt.relation.items utt 'Word))
SCM
  span=$(festival -b "$out.scm" 2>/dev/null | awk -v f="$first" -v l="$last" 'NR == f { s = $1 } NR == l { e = $2 } END { print s, e }')
  read -r first last <<<"$span"
  [ -n "$last" ] || { echo "gen-prompts: no word timing for $text" >&2; return 1; }
  sox "$out.full.wav" "$out" trim "$first" "=$last"
}

# speech NAME TEXT: renders one spoken prompt to $dir/NAME.mp3.
speech() {
  local name=$1 text=$2 w=$tmp/$1
  synth "$text" "$w.raw.wav"
  # HTS sometimes blows up on a word and clips: never ship that.
  if awk -v p="$(stat "$w.raw.wav" "Pk lev dB")" 'BEGIN { exit !(p > -0.5) }'; then
    echo "gen-prompts: $name: festival output clips; give a carrier phrase in the third column: $text" >&2
    return 1
  fi
  sox "$w.raw.wav" "$w.cut.wav" highpass 100 \
    silence 1 0.005 -50d reverse silence 1 0.005 -50d reverse rate -v "$RATE"
  sox "$w.cut.wav" "$w.trim.wav" fade t 0.005 -0 0.015
  # Active speech level: the level with pauses longer than 50 ms removed.
  local rms peak gain
  rms=$(stat "$w.trim.wav" "RMS lev dB" silence 1 0.02 -40d -1 0.05 -40d)
  peak=$(stat "$w.trim.wav" "Pk lev dB")
  gain=$(awk -v t="$TARGET_DB" -v p="$PEAK_DB" -v r="$rms" -v k="$peak" \
    'BEGIN { g = t - r; if (k + g > p) g = p - k; printf "%.2f", g }')
  sox "$w.trim.wav" -b 16 "$w.norm.wav" gain "$gain"
  encode "$w.norm.wav" "$dir/$name.mp3"
  printf 'gen-prompts: %-26s %5.2fs  gain %+6.2f dB  "%s"\n' "$name" \
    "$(soxi -D "$w.norm.wav")" "$gain" "$text"
}

# hold_music: a soft, loopable pad-and-pluck chord progression (synthesised,
# nothing copyrighted). Each chord's release and the reverb tail past the end
# are folded onto the start, so the last sample flows into the first.
hold_music() {
  local w=$tmp/music L=5 OV=2.5 TAIL=4 i=0 parts=() chord f
  mkdir -p "$w"
  # Cmaj7 Am7 Fmaj7 G6 Em7 Am7 Dm7 G7sus: root bass, then pad notes.
  local chords=(
    "65.41 261.63 329.63 392.00 493.88"
    "55.00 220.00 261.63 329.63 392.00"
    "43.65 174.61 220.00 261.63 329.63"
    "49.00 196.00 246.94 293.66 329.63"
    "41.20 164.81 196.00 246.94 293.66"
    "55.00 220.00 261.63 329.63 392.00"
    "36.71 146.83 220.00 261.63 349.23"
    "49.00 196.00 261.63 293.66 349.23"
  )
  local n=${#chords[@]} len total
  len=$(awk -v l=$L -v o=$OV 'BEGIN { print l + o }')
  total=$((n * L + TAIL))
  for chord in "${chords[@]}"; do
    read -r -a f <<<"$chord"
    local off=$((i * L))
    # Pad: sines plus a quiet octave-up sine for air, slow attack and release.
    sox -r $RATE -c 6 -n "$w/pad$i.wav" synth "$len" \
      sine "${f[0]}" sine "${f[1]}" sine "${f[2]}" sine "${f[3]}" sine "${f[4]}" sine "$(awk -v x="${f[2]}" 'BEGIN{print 2*x}')" \
      remix 1v0.9,2v0.5,3v0.45,4v0.4,5v0.35,6v0.12 \
      tremolo 0.3 15 fade q 1.5 "$len" "$OV" pad "$off"
    parts+=("$w/pad$i.wav")
    # Plucked arpeggio: fifth, third, octave, fifth, one note every 1.25 s.
    local j=0 note
    for note in "${f[3]}" "${f[2]}" "$(awk -v x="${f[1]}" 'BEGIN{print 2*x}')" "${f[3]}"; do
      local at
      at=$(awk -v o=$off -v j=$j 'BEGIN { print o + j * 1.25 }')
      sox -n -r $RATE -c 1 "$w/pl$i-$j.wav" synth 1.8 pluck "$note" \
        fade q 0.01 1.8 1.2 vol 0.35 pad "$at"
      parts+=("$w/pl$i-$j.wav")
      j=$((j + 1))
    done
    i=$((i + 1))
  done
  sox -V1 -m "${parts[@]}" "$w/linear.wav" lowpass 3000 reverb 30 50 60 pad 0 "$TAIL" trim 0 "$total"
  local loop=$((n * L))
  sox "$w/linear.wav" "$w/body.wav" trim 0 "$loop"
  sox "$w/linear.wav" "$w/tail.wav" trim "$loop" pad 0 "$((loop - TAIL))"
  sox -m -v 1 "$w/body.wav" -v 1 "$w/tail.wav" "$w/loop.wav"
  local rms gain
  rms=$(stat "$w/loop.wav" "RMS lev dB")
  gain=$(awk -v t="$MUSIC_DB" -v r="$rms" 'BEGIN { printf "%.2f", t - r }')
  sox "$w/loop.wav" -b 16 "$w/norm.wav" gain "$gain"
  encode "$w/norm.wav" "$dir/hold_music.mp3"
  printf 'gen-prompts: %-26s %5.2fs  gain %+6.2f dB  (synthesised, loops)\n' hold_music \
    "$(soxi -D "$w/norm.wav")" "$gain"
}

# render NAME TEXT TTS: one prompt of either kind; records its hash on success.
render() {
  local name=$1 text=$2 tts=$3
  case "$text" in
    "[hold music]") hold_music ;;
    \[*) echo "gen-prompts: $name: no generator for $text" >&2; return 1 ;;
    *) speech "$name" "$tts" ;;
  esac
}

declare -A old=()
if [ -f "$sumfile" ]; then
  while IFS=$'\t' read -r n h; do old[$n]=$h; done <"$sumfile"
fi

names=() sums=() todo=0 failed=0
jobs_max=$(nproc 2>/dev/null || echo 2)
while IFS=$'\t' read -r name text tts; do
  case "$name" in '' | '#'*) continue ;; esac
  [ -n "$text" ] || { echo "gen-prompts: $name has no text" >&2; exit 1; }
  [ -n "$tts" ] || tts=$text
  h=$(printf '%s\t%s\t%s\t%s' "$scriptsum" "$name" "$text" "$tts" | sha256sum | cut -c1-16)
  names+=("$name") sums+=("$h")
  if [ $force -eq 0 ] && [ "${old[$name]:-}" = "$h" ] && [ -s "$dir/$name.mp3" ]; then
    continue
  fi
  todo=$((todo + 1))
  while [ "$(jobs -rp | wc -l)" -ge "$jobs_max" ]; do wait -n || failed=$((failed + 1)); done
  render "$name" "$text" "$tts" </dev/null &
done <"$catalog"
while [ "$(jobs -rp | wc -l)" -gt 0 ]; do wait -n || failed=$((failed + 1)); done
if [ $failed -ne 0 ]; then
  echo "gen-prompts: $failed prompt(s) failed; gen.sum not updated" >&2
  exit 1
fi

declare -A keep=()
for i in "${!names[@]}"; do keep[${names[$i]}]=1; done
for f in "$dir"/*.mp3; do
  [ -e "$f" ] || continue
  n=$(basename "$f" .mp3)
  [ -n "${keep[$n]:-}" ] || { echo "gen-prompts: removing $f (not in catalog)"; rm -f "$f"; }
done
for i in "${!names[@]}"; do printf '%s\t%s\n' "${names[$i]}" "${sums[$i]}"; done >"$sumfile"

bytes=$(cat "$dir"/*.mp3 | wc -c)
echo "gen-prompts: ${#names[@]} prompts, $todo rendered, $((bytes / 1024)) KiB of MP3 in $dir"
