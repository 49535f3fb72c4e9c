#!/usr/bin/env bash
# Synthesises the ASR accuracy corpus: caller phrases for every dialog step,
# spoken by espeak-ng across accents, voices, speeds and pitches, padded with
# silence, mixed with line noise, at 8 kHz mono 16-bit (the phone rate).
#
#   scripts/gen-corpus.sh [OUT_DIR] [CLIPS_PER_PHRASE] [SEED]
#
# OUT_DIR defaults to testdata/corpus (git-ignored); it gets clips/*.wav and
# corpus.tsv (header "path step intent text", see `ivr asr eval`). The same
# seed gives the same corpus, byte for byte: every random choice is drawn
# from bash's $RANDOM in this shell (a command substitution would reseed it),
# sox runs with -R (its dither is otherwise random), and the line noise is
# cut from buffers it makes with that fixed seed.
# Needs espeak-ng and sox.
#
# SYNTH=festival speaks the same phrases with festival's voices instead: two
# diphone voices (kal, ked: concatenated recordings of two American men) and
# an HTS voice (slt: a statistical model of an American woman), at tempos
# 0.85-1.15 (sox), the rest as above. A second synthesiser family shows how
# much of a figure is espeak's. Needs festival, festvox-kallpc16k,
# festvox-kdlpc16k and festvox-us-slt-hts (scripts/install-deps.sh --voice).
set -euo pipefail
synth=${SYNTH:-espeak}

out=${1:-testdata/corpus}
per=${2:-3}
RANDOM=${3:-42}

for t in espeak-ng sox; do
  command -v "$t" >/dev/null || { echo "gen-corpus: $t not found (scripts/install-deps.sh)" >&2; exit 1; }
done
fvoices=(voice_kal_diphone voice_ked_diphone voice_cmu_us_slt_arctic_hts)
if [ "$synth" = festival ]; then
  command -v text2wave >/dev/null || { echo "gen-corpus: festival not found (apt-get install festival)" >&2; exit 1; }
  for v in kal_diphone ked_diphone cmu_us_slt_arctic_hts; do
    [ -n "$(find /usr/share/festival/voices -maxdepth 2 -name "$v" -print -quit)" ] ||
      { echo "gen-corpus: festival voice $v not found (festvox-kallpc16k, festvox-kdlpc16k, festvox-us-slt-hts)" >&2; exit 1; }
  done
elif [ "$synth" != espeak ]; then
  echo "gen-corpus: SYNTH=$synth: want espeak or festival" >&2
  exit 1
fi

mkdir -p "$out/clips"
tsv="$out/corpus.tsv"
printf 'path\tstep\tintent\ttext\n' >"$tsv"
# meta.tsv says how each clip was made, for breaking results down by voice.
meta="$out/meta.tsv"
printf 'path\tvoice\tspeed\tpitch\tnoise\tnoise_level\n' >"$meta"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# sox seeds its noise generators afresh on every run, and with -R gives every
# run the same sequence: one minute of each noise, made once with -R, and each
# clip's noise cut from it at an offset drawn from the seed.
for nz in whitenoise pinknoise brownnoise; do
  sox -R -q -n -r 8000 -c 1 -b 16 "$tmp/$nz.wav" synth 60 "$nz"
done
# noise KIND SECONDS VOLUME OUT: a stretch of the corpus' noise.
noise() {
  sox -R -q "$tmp/$1.wav" "$4" trim "$((RANDOM % 40)).$((RANDOM % 100))" "$2" vol "$3"
}

accents=(en-us en-us en-us en-us-nyc en en-gb-x-rp en-029 en-gb-scotland)
variants=("" +m1 +m2 +m3 +m4 +m5 +m7 +f1 +f2 +f3 +f4 +f5 +klatt)
noises=(none none whitenoise pinknoise pinknoise brownnoise)

n=0
# clip STEP INTENT TEXT [SPOKEN]: synthesise one clip; SPOKEN (default TEXT)
# is what espeak-ng says, TEXT is the expected transcript.
clip() {
  local step=$1 intent=$2 text=$3 spoken=${4:-$3}
  local accent=${accents[RANDOM % ${#accents[@]}]}
  local variant=${variants[RANDOM % ${#variants[@]}]}
  local speed=$((130 + RANDOM % 60)) pitch=$((30 + RANDOM % 40))
  local noise=${noises[RANDOM % ${#noises[@]}]}
  local nvol lead name
  printf -v nvol '0.%04d' $((5 + RANDOM % 60)) # noise level
  printf -v lead '0.%d' $((3 + RANDOM % 6))
  n=$((n + 1))
  printf -v name '%s-%s-%04d.wav' "$step" "$intent" "$n"
  if [ "$synth" = festival ]; then
    local fv=${fvoices[RANDOM % ${#fvoices[@]}]}
    local t=$((85 + RANDOM % 31)) tempo
    printf -v tempo '%d.%02d' $((t / 100)) $((t % 100))
    printf '%s\n' "$spoken" >"$tmp/t.txt"
    text2wave -eval "($fv)" "$tmp/t.txt" -o "$tmp/f.wav" >/dev/null 2>&1
    sox -R -q "$tmp/f.wav" "$tmp/raw.wav" tempo "$tempo"
    accent=${fv#voice_} variant="" speed=$tempo pitch=0
  else
    espeak-ng -v "$accent$variant" -s "$speed" -p "$pitch" -w "$tmp/raw.wav" "$spoken"
  fi
  sox -R -q "$tmp/raw.wav" -r 8000 -c 1 -b 16 "$tmp/s.wav" norm -1 vol "0.$((4 + RANDOM % 5))" pad "$lead" 1.0
  if [ "$noise" = none ]; then
    cp "$tmp/s.wav" "$out/clips/$name"
  else
    local dur
    dur=$(soxi -D "$tmp/s.wav")
    noise "$noise" "$dur" "$nvol" "$tmp/n.wav"
    sox -R -q -m "$tmp/s.wav" "$tmp/n.wav" -b 16 "$out/clips/$name"
  fi
  printf 'clips/%s\t%s\t%s\t%s\n' "$name" "$step" "$intent" "$text" >>"$tsv"
  printf 'clips/%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$accent$variant" "$speed" "$pitch" "$noise" "$nvol" >>"$meta"
}

# phrases STEP INTENT PHRASE...: every phrase, CLIPS_PER_PHRASE times.
phrases() {
  local step=$1 intent=$2
  shift 2
  local p i
  for p in "$@"; do
    for ((i = 0; i < per; i++)); do clip "$step" "$intent" "$p"; done
  done
}

phrases main balance "what is my balance" "what's my account balance" "i'd like to check my balance" \
  "balance please" "how much do i owe" "can i hear my balance"
phrases main next_payment "when is my next payment due" "when's my next payment" "what's the due date" \
  "i need to know my next payment date" "how much is my next payment"
phrases main make_payment "i want to make a payment" "i'd like to pay my bill" "make a payment" \
  "can i pay now" "i want to pay it off"
phrases main payment_status "did my payment go through" "what's the status of my last payment" \
  "i want to check on my payment" "was my payment received" "payment status"
phrases main agent "agent" "representative" "i want to talk to an agent" "let me speak to a real person" \
  "can i talk to someone" "operator please" "get me a human" "i need to speak with a representative" \
  "customer service"
# Agent requests inside longer sentences: the expected text is the whole
# sentence, the grammar only has to find the request in it.
phrases main agent "this is ridiculous i just want a real person" \
  "i have been waiting forever give me an agent"
phrases main repeat "can you repeat that" "say that again please" "repeat" "what did you say" "pardon"
phrases main goodbye "goodbye" "bye bye" "that's all thanks" "i'm done thank you"
phrases confirm yes "yes" "yeah" "yes please" "that's right" "correct" "yep"
phrases confirm no "no" "no thanks" "nope" "that's wrong" "no it isn't"
phrases digits digits "one two three four" "four oh one two" "nine eight seven six five four" \
  "zero five five one two three four five"
phrases amount amount "three hundred twenty one dollars and nine cents" "fifty dollars" \
  "one thousand two hundred dollars" "forty five fifty" "twelve cents" "ninety nine dollars and ninety nine cents"

# Out of grammar: fillers, unrelated sentences and noises must give no-match.
phrases main none "umm" "uh" "hmm" "the weather is lovely today" "my dog ate my homework" \
  "what time does the store open" "i like pizza with extra cheese" "hello is anybody there" \
  "the quick brown fox jumps over the lazy dog" "tell me a joke"
phrases confirm none "umm" "i don't know" "what was the question" "maybe later"
# A cough-like noise burst and a door slam: no speech at all.
for ((i = 0; i < per * 3; i++)); do
  n=$((n + 1))
  printf -v name 'main-none-%04d.wav' "$n"
  noise brownnoise 0.$((25 + RANDOM % 30)) 0.$((3 + RANDOM % 5)) "$tmp/b.wav"
  sox -R -q "$tmp/b.wav" "$tmp/c.wav" fade q 0.02 0 0.15 pad 0.5 1.0
  noise pinknoise "$(soxi -D "$tmp/c.wav")" 0.00$((2 + RANDOM % 5)) "$tmp/n.wav"
  sox -R -q -m "$tmp/c.wav" "$tmp/n.wav" -b 16 "$out/clips/$name"
  printf 'clips/%s\tmain\tnone\t\n' "$name" >>"$tsv"
done

echo "gen-corpus: $n clips in $out ($(du -sh "$out" | cut -f1))"
