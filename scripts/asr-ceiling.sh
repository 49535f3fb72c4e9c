#!/usr/bin/env bash
# How far can Debian's en-us model go on the synthetic corpora? This adapts
# the model to the synthesiser itself and measures the corpora again: if a
# model fitted to espeak-ng's voices still misses the targets, the limit is
# the model, not the front-end, the grammars or the rejection rules.
#
# The adaptation speech is espeak-ng, with the corpus' accents, variants,
# speeds and pitches, reading sentences no caller says to this bot: the
# transcripts of the Asterisk prompts (asterisk-core-sounds-en), without any
# sentence that holds a digit or a word the bot's intents key on (balance,
# payment, agent, yes, no, ...). So no grammar phrase is ever adapted on;
# what is learned is the voice. Two adaptations are measured:
#   - one global MLLR transform, as the embedded asr/phone.mllr but from this
#     speech (scripts/gen-mllr.sh with ADAPT_LIST);
#   - MAP: every Gaussian of the model moved towards this speech
#     (SphinxTrain's map_adapt; gen-mllr.sh with MAP_DIR).
# Neither is for use on calls: they fit a synthesiser, not callers (the real
# corpus, scripts/gen-real-corpus.sh, shows what they do to a person).
#
#   scripts/asr-ceiling.sh WORKDIR CORPUS_DIR...
#
# e.g. scripts/asr-ceiling.sh /tmp/ceiling /tmp/r1234 /tmp/r99 /tmp/r77
# (corpora from scripts/gen-corpus.sh DIR 3 SEED). REPS (default 2) is how
# many times each sentence is spoken, each time by another drawn voice.
# Prints markdown tables (intent accuracy / false accepts / exact phrases per
# corpus; answers heard right per step) and draws WORKDIR/ceiling.svg.
#
# Needs what gen-mllr.sh needs, and espeak-ng, sox, asterisk-core-sounds-en
# (scripts/install-deps.sh --adapt). About 11 minutes for the three espeak
# corpora and the real one (one core).
set -euo pipefail
[ $# -ge 2 ] || { echo "usage: asr-ceiling.sh WORKDIR CORPUS_DIR..." >&2; exit 1; }
work=$(realpath -m "$1")
shift
corpora=()
for c in "$@"; do
	[ -f "$c/corpus.tsv" ] || { echo "asr-ceiling: $c/corpus.tsv not found" >&2; exit 1; }
	corpora+=("$(realpath "$c")")
done
set -- "${corpora[@]}"
cd "$(dirname "$0")/.." # the repository: the binary and gen-mllr.sh are built from it
reps=${REPS:-2}
tr=${TRANSCRIPTS:-/usr/share/doc/asterisk-core-sounds-en/core-sounds-en.txt.gz}
dict=$(pkg-config --variable=modeldir pocketsphinx 2>/dev/null || echo /usr/share/pocketsphinx/model)/en-us/cmudict-en-us.dict
[ -f "$tr" ] || { echo "asr-ceiling: $tr not found (scripts/install-deps.sh --adapt, or TRANSCRIPTS=FILE)" >&2; exit 1; }
for t in espeak-ng sox python3 go; do
	command -v $t >/dev/null || { echo "asr-ceiling: $t not found (scripts/install-deps.sh --adapt)" >&2; exit 1; }
done
mkdir -p "$work/adapt/wav"
go build -o "$work/ivr" ./cmd/ivr

# The sentences: in the dictionary, 3 to 18 words, no digit, no word of the
# bot's intents.
python3 - "$tr" "$dict" "$work/adapt/sentences.txt" <<'EOF'
import gzip, re, sys
tr, dict_path, out = sys.argv[1:]
words = {re.sub(r"\(\d+\)$", "", l.split()[0]) for l in open(dict_path, errors="ignore") if l.strip()}
banned = set("""balance payment payments pay paid agent agents operator person people representative
human someone somebody yes yeah yep no nope correct right wrong goodbye bye repeat again due owe
installment customer service help status account zero oh one two three four five six seven eight
nine ten hundred thousand dollars dollar cents""".split())
keep = set()
for line in gzip.open(tr, "rt", errors="ignore"):
    if line.startswith(";") or ":" not in line:
        continue
    said = line.split(":", 1)[1]
    if re.search(r"\d", said):
        continue
    ws = re.sub(r"[^a-z' ]", " ", said.lower()).split()
    if 3 <= len(ws) <= 18 and all(w in words and w not in banned for w in ws):
        keep.add(" ".join(ws))
open(out, "w").write("\n".join(sorted(keep)) + "\n")
print(f"asr-ceiling: {len(keep)} sentences", file=sys.stderr)
EOF

# The voices: gen-corpus.sh's espeak-ng draws, from a seed no corpus uses.
RANDOM=5
accents=(en-us en-us en-us en-us-nyc en en-gb-x-rp en-029 en-gb-scotland)
variants=("" +m1 +m2 +m3 +m4 +m5 +m7 +f1 +f2 +f3 +f4 +f5 +klatt)
list=$work/adapt/list.tsv
: >"$list"
n=0
total=$((reps * $(wc -l <"$work/adapt/sentences.txt")))
for ((r = 1; r <= reps; r++)); do
	while read -r s; do
		n=$((n + 1))
		a=${accents[RANDOM % ${#accents[@]}]} v=${variants[RANDOM % ${#variants[@]}]}
		espeak-ng -v "$a$v" -s $((130 + RANDOM % 60)) -p $((30 + RANDOM % 40)) -w "$work/adapt/raw.wav" "$s"
		sox -R -q "$work/adapt/raw.wav" -r 8000 -c 1 -b 16 "$work/adapt/wav/s$n.wav" norm -1 vol "0.$((4 + RANDOM % 5))" pad 0.3 0.5
		printf 's%d\twav/s%d.wav\t%s\n' $n $n "$s" >>"$list"
		[ $((n % 50)) -eq 0 ] && echo "asr-ceiling: spoken $n of $total" >&2
	done <"$work/adapt/sentences.txt"
done
rm -f "$work/adapt/raw.wav"

ADAPT_LIST=$list OUT=$work/espeak.mllr MAP_DIR=$work/map bash scripts/gen-mllr.sh >&2

eval1() { # eval1 CORPUS LABEL ARGS...: "intent / false accepts / exact" in %; keeps the JSON
	local c=$1 j=$work/eval-$(basename "$1")-$2.json
	shift 2
	"$work/ivr" asr eval --concurrency 1 --json "$@" "$c" >"$j" 2>/dev/null
	python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
print("%.1f / %.1f / %.1f" % (100 * d["intent_accuracy"], 100 * d["false_accept_rate"], 100 * d["exact_accuracy"]))' "$j"
}
echo "| corpus | default (real-speech phone.mllr) | MLLR from espeak | MAP to espeak |"
echo "|---|---|---|---|"
for c in "$@"; do
	echo "asr-ceiling: $c" >&2
	echo "| $(basename "$c") | $(eval1 "$c" default) | $(eval1 "$c" mllr --mllr "$work/espeak.mllr") | $(eval1 "$c" map --model-dir "$work/map/en-us" --mllr none) |"
done

# Where the errors are: in-grammar clips heard right, per step, all corpora.
echo
python3 - "$work" "$@" <<'EOF'
import json, os, sys
work, corpora = sys.argv[1], sys.argv[2:]
labels = ["default", "mllr", "map"]
steps, ok, n = [], {}, {}
for l in labels:
    for c in corpora:
        for x in json.load(open(f"{work}/eval-{os.path.basename(c)}-{l}.json"))["clips"]:
            if x["intent"] == "none":
                continue
            s = x["step"]
            if s not in steps:
                steps.append(s)
            n[l, s] = n.get((l, s), 0) + 1
            ok[l, s] = ok.get((l, s), 0) + (x["got_intent"] == x["intent"])
print("| step (in-grammar clips heard right) | default | MLLR from espeak | MAP to espeak |")
print("|---|---|---|---|")
for s in steps:
    print(f"| {s} | " + " | ".join(f"{ok[l, s]} of {n[l, s]} ({100 * ok[l, s] / n[l, s]:.1f} %)" for l in labels) + " |")
EOF
names=()
for c in "$@"; do names+=("$(basename "$c")"); done
python3 scripts/plot-ceiling.py "$work" "$work/ceiling.svg" "${names[@]}"
echo "asr-ceiling: drew $work/ceiling.svg" >&2
