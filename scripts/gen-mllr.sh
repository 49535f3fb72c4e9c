#!/usr/bin/env bash
# Writes asr/phone.mllr: an MLLR transform of the en-us acoustic model's
# means to the phone channel, as the recognizer hears it (8 kHz G.711, then
# the front-end's upsampling and band fill; `ivr asr hear`).
#
# The adaptation data is real speech, never the espeak corpus the recognizer
# is measured on: the 12 transcribed recordings of Debian's
# pocketsphinx-testdata and the 8 spoken channel names of alsa-utils, about
# 50 s in all. One global transform (3 streams of 13) fits so little data
# without learning words: what it learns is the channel.
#
# Two passes of Baum-Welch counts (SphinxTrain's bw) and mllr_solve, the
# second aligned with the first transform applied, as in CMUSphinx's
# "Adapting the default acoustic model".
#
# Needs: sphinxtrain, sphinxbase-utils, pocketsphinx-testdata, alsa-utils,
# python3, a C compiler (the model's binary mdef and sendump are converted to
# the text mdef and mixture_weights bw reads). Run it again after changing
# the front-end (noise level or shape) or the codec path.
#
#   scripts/gen-mllr.sh
#
# For measurements (scripts/asr-ceiling.sh), not for the embedded transform:
#   ADAPT_LIST=FILE  adapt on other recordings: lines "ID<TAB>WAV<TAB>words",
#                    WAV relative to FILE's directory (any rate)
#   OUT=FILE         write the transform there instead of asr/phone.mllr
#   MAP_DIR=DIR      also write DIR/en-us: a copy of the model whose means,
#                    variances, mixture weights and transitions are MAP-
#                    adapted to the recordings (SphinxTrain's map_adapt, on
#                    the first pass's counts; use it with --mllr none)
set -euo pipefail
model=${MODEL_DIR:-$(pkg-config --variable=modeldir pocketsphinx 2>/dev/null || echo /usr/share/pocketsphinx/model)/en-us}
st=/usr/lib/sphinxtrain
data=/usr/share/pocketsphinx/test/data
alsa=/usr/share/sounds/alsa
need() { [ -e "$1" ] || { echo "gen-mllr: $1 not found (apt-get install $2)" >&2; exit 1; }; }
need "$st/bw" sphinxtrain
need "$st/mllr_solve" sphinxtrain
need /usr/bin/sphinx_fe sphinxbase-utils
out=${OUT:-asr/phone.mllr}
if [ -n "${ADAPT_LIST:-}" ]; then
	[ -f "$ADAPT_LIST" ] || { echo "gen-mllr: ADAPT_LIST $ADAPT_LIST not found" >&2; exit 1; }
else
	need "$data/cards/001.wav" pocketsphinx-testdata
	need "$alsa/Front_Left.wav" alsa-utils
fi
for c in cc python3 sox go; do command -v $c >/dev/null || { echo "gen-mllr: $c not found" >&2; exit 1; }; done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/ivr" ./cmd/ivr

# The model in the form bw reads: text mdef, full mixture weights.
mkdir "$tmp/hmm"
for f in means variances transition_matrices noisedict feat.params; do ln -s "$model/en-us/$f" "$tmp/hmm/$f"; done
cat >"$tmp/mdef.c" <<'EOF'
#include <stdio.h>
typedef struct bin_mdef_s bin_mdef_t;
bin_mdef_t *bin_mdef_read(void *config, const char *filename);
int bin_mdef_write_text(bin_mdef_t *m, const char *filename);
int main(int argc, char **argv) {
	bin_mdef_t *m = bin_mdef_read(NULL, argv[1]);
	if (m == NULL) return 1;
	return bin_mdef_write_text(m, argv[2]) != 0;
}
EOF
cc -o "$tmp/mdef" "$tmp/mdef.c" $(pkg-config --cflags --libs pocketsphinx)
"$tmp/mdef" "$model/en-us/mdef" "$tmp/hmm/mdef.txt" 2>/dev/null
# sendump holds the mixture weights quantised to one byte each, as
# -log1.0001(w) >> 10, stored [feature][codeword][senone]; bw wants
# mixture_weights, float32 [senone][feature][codeword] in an s3 file.
python3 - "$model/en-us/sendump" "$tmp/hmm/mixture_weights" <<'EOF'
import array, struct, sys
f = open(sys.argv[1], 'rb')
def string():
    n = struct.unpack('<I', f.read(4))[0]
    return None if n == 0 else f.read(n)[:-1]
feat, shift = 1, 10
while (s := string()) is not None:
    if s.startswith(b'feature_count'): feat = int(s.split()[1])
    if s.startswith(b'mixw_shift'): shift = int(s.split()[1])
ncw, nsen = struct.unpack('<II', f.read(8))
w = array.array('f', bytes(4 * nsen * feat * ncw))
table = [1.0001 ** -(b << shift) for b in range(256)]
for i in range(feat):
    for j in range(ncw):
        for k, b in enumerate(f.read(nsen)):
            w[(k * feat + i) * ncw + j] = table[b]
hdr = b's3\nversion 1.0\n'
hdr += b' ' * (-(len(hdr) + 7) % 4) + b'endhdr\n'
with open(sys.argv[2], 'wb') as o:
    o.write(hdr + struct.pack('<i', 0x11223344) + struct.pack('<IIII', nsen, feat, ncw, nsen * feat * ncw))
    w.tofile(o)
EOF

# The adaptation audio through the phone path, and its transcripts.
mkdir "$tmp/wav"
: >"$tmp/ids"
: >"$tmp/lsn"
add() { # add ID FILE TRANSCRIPT
	local in=$2
	case $in in *.raw) sox -t raw -r 16000 -e signed -b 16 -c 1 "$in" "$tmp/$1.in.wav"; in=$tmp/$1.in.wav ;; esac
	"$tmp/ivr" asr hear "$in" "$tmp/wav/$1.wav"
	echo "wav/$1" >>"$tmp/ids"
	echo "<s> $3 </s> ($1)" >>"$tmp/lsn"
}
if [ -n "${ADAPT_LIST:-}" ]; then
	listdir=$(dirname "$ADAPT_LIST")
	while IFS=$'\t' read -r id f text; do
		add "$id" "$listdir/$f" "$text"
	done <"$ADAPT_LIST"
else
	while read -r id text; do
		add "card$id" "$data/cards/$id.wav" "$text"
	done <<'EOF'
001 ten of clubs
002 four queen of clubs
003 seven of clubs
004 five five
005 eight of spades four of clubs seven of hearts
EOF
	while read -r id text; do
		add "sas$id" "$data/librivox/sense_and_sensibility_01_austen_64kb-$id.wav" "$text"
	done <<'EOF'
0870 and mister john dashwood had then leisure to consider how much there might be prudently in his power to do for them
0880 he was not an ill disposed young man
0890 unless to be rather cold hearted and rather selfish is to be ill disposed
0920 had he married a more a amiable woman he might have been made still more respectable than he was
0930 he might even have been made amiable himself
EOF
	add goforward "$data/goforward.raw" "go forward ten meters"
	add dhd2934z "$data/tidigits/dhd.2934z.raw" "two nine three four zero"
	for f in Front_Center Front_Left Front_Right Rear_Center Rear_Left Rear_Right Side_Left Side_Right; do
		add "$(echo "$f" | tr 'A-Z' 'a-z' | tr -d _)" "$alsa/$f.wav" "$(echo "$f" | tr 'A-Z_' 'a-z ')"
	done
fi
echo "gen-mllr: $(wc -l <"$tmp/ids") recordings through the phone path"
sphinx_fe -argfile "$tmp/hmm/feat.params" -samprate 16000 -c "$tmp/ids" -di "$tmp" -do "$tmp" -ei wav -eo mfc -mswav yes ${FE_ARGS:-} >"$tmp/fe.log" 2>&1 ||
	{ tail "$tmp/fe.log" >&2; exit 1; }

pass() { # pass N [PREVIOUS]
	local acc=$tmp/acc$1
	mkdir "$acc"
	"$st/bw" -hmmdir "$tmp/hmm" -moddeffn "$tmp/hmm/mdef.txt" -ts2cbfn .ptm. -feat 1s_c_d_dd -svspec 0-12/13-25/26-38 \
		-cmn current -agc none -dictfn "$model/cmudict-en-us.dict" -ctlfn "$tmp/ids" -lsnfn "$tmp/lsn" \
		-accumdir "$acc" -cepdir "$tmp" -cepext mfc ${2:+-mllrmat "$2"} >"$acc/bw.log" 2>&1 || { tail "$acc/bw.log" >&2; exit 1; }
	if grep -q -i -E "error|does not match" "$acc/bw.log"; then grep -i -E "error|does not match" "$acc/bw.log" >&2; exit 1; fi
	echo "gen-mllr: pass $1: $(grep '^overall>' "$acc/bw.log")"
	"$st/mllr_solve" -meanfn "$tmp/hmm/means" -varfn "$tmp/hmm/variances" -outmllrfn "$tmp/mllr$1" -accumdir "$acc" >"$acc/solve.log" 2>&1 ||
		{ tail "$acc/solve.log" >&2; exit 1; }
}
pass 1
pass 2 "$tmp/mllr1"
cp "$tmp/mllr2" "$out"
echo "gen-mllr: wrote $out"

if [ -n "${MAP_DIR:-}" ]; then
	need "$st/map_adapt" sphinxtrain
	rm -rf "$MAP_DIR/en-us"
	mkdir -p "$MAP_DIR/en-us"
	cp -r "$model/." "$MAP_DIR/en-us/"
	m=$MAP_DIR/en-us/en-us
	rm -f "$m/sendump" "$m/means" "$m/variances" "$m/transition_matrices" # replaced below; sendump by mixture_weights
	"$st/map_adapt" -moddeffn "$tmp/hmm/mdef.txt" -ts2cbfn .ptm. -meanfn "$tmp/hmm/means" -varfn "$tmp/hmm/variances" \
		-mixwfn "$tmp/hmm/mixture_weights" -tmatfn "$tmp/hmm/transition_matrices" -accumdir "$tmp/acc1" \
		-mapmeanfn "$m/means" -mapvarfn "$m/variances" -mapmixwfn "$m/mixture_weights" -maptmatfn "$m/transition_matrices" \
		>"$tmp/map.log" 2>&1 || { tail "$tmp/map.log" >&2; exit 1; }
	echo "gen-mllr: wrote $MAP_DIR/en-us (MAP-adapted model; --model-dir $MAP_DIR/en-us --mllr none)"
fi
