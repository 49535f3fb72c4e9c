#!/usr/bin/env bash
# Writes a corpus of real recorded telephone speech for `ivr asr eval`: the
# English prompts of the Asterisk PBX (Debian's asterisk-core-sounds-en-wav,
# Allison Smith, 8 kHz, CC-BY-SA-3.0), with the transcripts the package
# ships (asterisk-core-sounds-en: core-sounds-en.txt).
#
# Every other corpus here is synthetic (espeak-ng, festival). These are a
# person's voice, and almost all of them are sentences no step of the bot
# expects ("please enter your password followed by the pound key"), so they
# measure what the synthetic corpora can only approximate: how often real
# out-of-grammar speech is taken for a request. Each such prompt is listed at
# step main and at step confirm with intent none. The few whose words the
# grammars use are kept out of that set, except four that are in-grammar
# answers as they stand ("goodbye" twice, "agent", "no").
#
#   scripts/gen-real-corpus.sh DIR        then: ivr asr eval DIR
#
# Needs: asterisk-core-sounds-en-wav, asterisk-core-sounds-en (for the
# transcripts; a machine that drops /usr/share/doc can pass TRANSCRIPTS=FILE),
# python3, and the en-us dictionary (pocketsphinx-en-us).
set -euo pipefail
dir=${1:?usage: gen-real-corpus.sh DIR}
sounds=${SOUNDS:-/usr/share/asterisk/sounds/en_US_f_Allison}
tr=${TRANSCRIPTS:-/usr/share/doc/asterisk-core-sounds-en/core-sounds-en.txt.gz}
dict=${DICT:-$(pkg-config --variable=modeldir pocketsphinx 2>/dev/null || echo /usr/share/pocketsphinx/model)/en-us/cmudict-en-us.dict}
[ -d "$sounds" ] || { echo "gen-real-corpus: $sounds not found (apt-get install asterisk-core-sounds-en-wav)" >&2; exit 1; }
[ -f "$tr" ] || { echo "gen-real-corpus: $tr not found (apt-get install asterisk-core-sounds-en, or TRANSCRIPTS=FILE)" >&2; exit 1; }
[ -f "$dict" ] || { echo "gen-real-corpus: $dict not found (apt-get install pocketsphinx-en-us)" >&2; exit 1; }
mkdir -p "$dir/clips"
python3 - "$sounds" "$tr" "$dict" "$dir" <<'EOF'
import gzip, os, re, sys
sounds, tr, dic, out = sys.argv[1:5]
vocab = set()
for l in open(dic, encoding='utf-8', errors='replace'):
    vocab.add(re.sub(r'\(\d+\)$', '', l.split(' ', 1)[0]))
ones = ('zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen '
        'fifteen sixteen seventeen eighteen nineteen').split()
tens = 'x x twenty thirty forty fifty sixty seventy eighty ninety'.split()
def number(m):
    n = int(m.group())
    if n < 20: return ' ' + ones[n] + ' '
    if n < 100: return ' ' + tens[n // 10] + ('' if n % 10 == 0 else ' ' + ones[n % 10]) + ' '
    return ' OOV '
# Words of the bot's requests and answers: a prompt holding one is not
# out-of-grammar speech, whatever else it says.
grammar = re.compile(r"\b(agents?|operator|representative|person|someone|somebody|human|customer|"
                     r"service|balance|payments?|pay|goodbye|bye|repeat|due|owe|yes|no|nope|correct|wrong)\b")
answers = {'goodbye': ('main', 'goodbye'), 'vm-goodbye': ('main', 'goodbye'),
           'spy-agent': ('main', 'agent'), 'vm-no': ('confirm', 'no')}
rows, skipped = [], 0
opener = gzip.open if tr.endswith('.gz') else open
for l in opener(tr, 'rt', encoding='utf-8', errors='replace'):
    l = l.strip()
    if not l or l.startswith(';') or ':' not in l:
        continue
    key, text = (x.strip() for x in l.split(':', 1))
    wav = os.path.join(sounds, key + '.wav')
    if not text or '[' in text or not os.path.exists(wav):
        skipped += 1  # tones, silence, missing files
        continue
    t = text.lower().replace('*', ' star ').replace('#', ' pound ').replace('&', ' and ')
    t = re.sub(r'\d+', number, t.replace('-', ' '))
    words = [w.strip("'") for w in re.sub(r"[^a-z' ]", ' ', t).split()]
    words = [w for w in words if w]
    if not words or any(w not in vocab for w in words):
        skipped += 1  # words the transcript spells in ways the dictionary lacks
        continue
    text = ' '.join(words)
    name = 'clips/' + key.replace('/', '_') + '.wav'
    link = os.path.join(out, name)
    if os.path.lexists(link):
        os.remove(link)
    os.symlink(wav, link)
    if key in answers:
        rows.append((name, *answers[key], text))
    elif not grammar.search(text):
        rows.append((name, 'main', 'none', text))
        rows.append((name, 'confirm', 'none', text))
with open(os.path.join(out, 'corpus.tsv'), 'w') as f:
    f.write('path\tstep\tintent\ttext\n')
    for r in rows:
        f.write('\t'.join(r) + '\n')
none = sum(1 for r in rows if r[2] == 'none') // 2
print(f'gen-real-corpus: {none} out-of-grammar prompts at main and confirm, '
      f'{len(rows) - 2 * none} answers, {skipped} prompts skipped -> {out}/corpus.tsv')
EOF
