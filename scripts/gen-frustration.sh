#!/usr/bin/env bash
# Synthesises scripted calls for the frustration evaluation (`ivr bot eval`):
# calm callers, frustrated callers and callers asking for a person, each
# one espeak-ng voice for the whole call, at 8 kHz G.711 mu-law (the phone's
# own format), with low line noise.
#
#   scripts/gen-frustration.sh [OUT_DIR] [CALLS_PER_LABEL] [SEED] [AGENT_CALLS]
#
# AGENT_CALLS (default 1) adds one call per phrasing for a person; 0 leaves
# them out (the CI slice: TestExplicitRequestEveryStep covers them).
# OUT_DIR defaults to testdata/frustration (git-ignored); it gets clips/*.wav
# and calls.tsv (header "call label turn kind payload flags", see
# bot.ReadScripts). The same seed gives the same calls, byte for byte; what
# each clip says is in texts.tsv. Needs espeak-ng and sox.
#
# Every call starts with the PIN on the keypad (the account is found by
# caller ID). Then:
#   calm:       three or four requests in a calm voice, one of them replaced
#               by words the bot can't understand (one misrecognition), then
#               goodbye; some calls make a payment.
#   frustrated: two calm requests (the caller's voice baseline), then turns
#               with angry wording ("this is useless", "you're not
#               listening", swearing) said louder (+6 to +10 dB), higher
#               (espeak pitch +22 to +35) and faster (+35 to +70 words a
#               minute), some talking over the bot, some repeating the
#               same request.
#   agent:      a calm request or none, then a request for a person in one
#               of many phrasings.
set -euo pipefail

out=${1:-testdata/frustration}
per=${2:-20}
RANDOM=${3:-7}
with_agents=${4:-1}

for t in espeak-ng sox; do
  command -v "$t" >/dev/null || { echo "gen-frustration: $t not found (scripts/install-deps.sh)" >&2; exit 1; }
done

mkdir -p "$out/clips"
rm -f "$out"/clips/*.wav
tsv="$out/calls.tsv"
printf 'call\tlabel\tturn\tkind\tpayload\tflags\n' >"$tsv"
# What each clip says, for reading results (ivr bot eval does not use it).
texts="$out/texts.tsv"
printf 'path\ttext\n' >"$texts"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# sox runs with -R: it seeds its noise and dither afresh on every run
# otherwise. With -R every run gets the same noise, so one minute of it is
# made once and each clip's noise cut from it at an offset drawn from the seed.
sox -R -q -n -r 8000 -c 1 -b 16 "$tmp/pink.wav" synth 60 pinknoise

accents=(en-us en-us en-us en-us-nyc en en-gb-x-rp en-029)
variants=("" +m1 +m2 +m3 +m4 +m7 +f1 +f2 +f4 +klatt)

requests=("what is my balance" "what's my account balance" "when is my next payment due"
  "when's my next payment" "did my payment go through" "what's the status of my last payment"
  "how much do i owe" "balance please" "i want to check my balance")
oog=("hang on let me find my glasses" "sorry i was talking to my son" "hmm let me think"
  "the weather is lovely today" "what time does the store open" "i am not sure what i need")
angry=("this is useless" "this is ridiculous" "you're not listening" "oh come on" "stupid machine"
  "damn it" "this is a waste of time" "i already told you" "this is so frustrating"
  "are you even listening" "what the hell" "this is pathetic")
agents=("agent" "representative" "a human" "a real person" "operator" "talk to someone"
  "speak to somebody" "customer service" "i want to talk to an agent"
  "i just want to talk to a real person" "can i speak to a representative please"
  "let me talk to someone" "i need to speak with a human" "get me an operator"
  "i'd like to speak to customer service" "could i talk to somebody please")
goodbyes=("goodbye" "that's all thanks" "bye bye" "i'm done thank you")

n=0
call=""
label=""
turn=0
# voice per call
accent="" variant="" speed=0 pitch=0 vol=0

newcall() { # newcall LABEL
  label=$1
  n=$((n + 1))
  printf -v call '%s-%03d' "$label" "$n"
  turn=0
  accent=${accents[RANDOM % ${#accents[@]}]}
  variant=${variants[RANDOM % ${#variants[@]}]}
  speed=$((145 + RANDOM % 30))
  pitch=$((35 + RANDOM % 20))
  vol=$((25 + RANDOM % 16)) # hundredths of the normalised peak
  row keys "2468#" -
}

row() { # row KIND PAYLOAD FLAGS
  turn=$((turn + 1))
  printf '%s\t%s\t%d\t%s\t%s\t%s\n' "$call" "$label" "$turn" "$1" "$2" "$3" >>"$tsv"
}

# say TEXT FLAGS [angry]: a speech turn in the call's voice, or raised.
say() {
  local text=$1 flags=$2 mood=${3:-calm}
  local s=$speed p=$pitch v=$vol a=100
  if [ "$mood" = angry ]; then
    s=$((speed + 35 + RANDOM % 36))
    p=$((pitch + 22 + RANDOM % 14))
    v=$((vol * (200 + RANDOM % 60) / 100)) # +6 to +8 dB (at most 0.95)
    a=180
  fi
  [ "$v" -gt 95 ] && v=95
  local name
  printf -v name '%s-%02d.wav' "$call" "$((turn + 1))"
  espeak-ng -v "$accent$variant" -s "$s" -p "$p" -a "$a" -w "$tmp/raw.wav" "$text"
  sox -R -q "$tmp/raw.wav" -r 8000 -c 1 -b 16 "$tmp/s.wav" norm -1 vol "0.$(printf '%02d' "$v")" pad 0.2 0.3
  sox -R -q "$tmp/pink.wav" "$tmp/n.wav" trim "$((RANDOM % 40)).$((RANDOM % 100))" "$(soxi -D "$tmp/s.wav")" vol 0.002
  sox -R -q -m "$tmp/s.wav" "$tmp/n.wav" -e u-law -b 8 "$out/clips/$name"
  row speech "clips/$name" "$flags"
  printf 'clips/%s\t%s\n' "$name" "$text" >>"$texts"
}

# pick ARRAY: one of its entries in $picked. (Not echoed for a command
# substitution: bash reseeds $RANDOM in a subshell, and the set would no
# longer be the same for the same seed.)
pick() { local -n arr=$1; picked=${arr[RANDOM % ${#arr[@]}]}; }

calm_call() {
  newcall calm
  local k=$((3 + RANDOM % 2)) miss=$((RANDOM % 3)) i j
  # A calm caller asks different things: shuffle the requests.
  local reqs=("${requests[@]}")
  for ((i = ${#reqs[@]} - 1; i > 0; i--)); do
    j=$((RANDOM % (i + 1)))
    local x=${reqs[i]}
    reqs[i]=${reqs[j]}
    reqs[j]=$x
  done
  for ((i = 0; i < k; i++)); do
    if [ "$i" -eq $((miss + 1)) ]; then
      pick oog
      say "$picked" -
    elif [ "$i" -eq 0 ] && [ $((RANDOM % 4)) -eq 0 ]; then
      say "i want to make a payment" -
      say "next installment" -
      say "yes" -
    else
      say "${reqs[i]}" -
    fi
  done
  pick goodbyes
  say "$picked" -
}

frustrated_call() {
  newcall frustrated
  local req1 req2 k i flags
  pick requests
  req1=$picked
  pick requests
  req2=$picked
  say "$req1" -
  say "$req2" -
  k=$((2 + RANDOM % 2))
  for ((i = 0; i < k; i++)); do
    flags=frustrated
    [ $((RANDOM % 3)) -eq 0 ] && flags=frustrated,barge
    local form=$((RANDOM % 4)) angry_words
    pick angry
    angry_words=$picked
    case $form in
      0) say "$angry_words" "$flags" angry ;;
      1) say "$angry_words, $req2" "$flags" angry ;;
      2)
        pick requests
        say "$angry_words, $picked" "$flags" angry
        ;;
      3) say "$req2, $angry_words" "$flags" angry ;;
    esac
  done
  pick goodbyes
  say "$picked" -
}

agent_call() {
  newcall agent
  local phrase=$1
  if [ $((RANDOM % 2)) -eq 0 ]; then
    pick requests
    say "$picked" -
  fi
  say "$phrase" agent
  pick goodbyes
  say "$picked" -
}

for ((c = 0; c < per; c++)); do
  calm_call
  frustrated_call
done
if [ "$with_agents" != 0 ]; then
  for p in "${agents[@]}"; do
    agent_call "$p"
  done
fi

echo "gen-frustration: $n calls in $out ($(du -sh "$out" | cut -f1))"
