#!/usr/bin/env bash
# Installs the Debian packages the server and its tests need. Idempotent: a
# package already present is skipped, so a second run costs a second or two.
#
#   scripts/install-deps.sh          runtime + test packages
#   scripts/install-deps.sh --run    only what `ivr serve` needs at run time
#   scripts/install-deps.sh --voice  adds festival: the voice used to regenerate
#                                    prompts, and the voices of
#                                    `SYNTH=festival scripts/gen-corpus.sh`;
#                                    and the Asterisk prompts' transcripts for
#                                    scripts/gen-real-corpus.sh
#   scripts/install-deps.sh --adapt  adds, to --voice, SphinxTrain and the
#                                    real speech gen-mllr.sh adapts on (and
#                                    scripts/asr-ceiling.sh)
#
# The tests' packages include asterisk-core-sounds-en-wav: real recorded
# speech (the Asterisk PBX's English prompts) for TestEvalRealSpeechCI.
set -euo pipefail

runtime=(libpocketsphinx-dev pocketsphinx-en-us pkg-config gcc)
testing=(sip-tester espeak-ng sox libsox-fmt-mp3 chromium curl bc asterisk-core-sounds-en-wav)
voice=(festival festvox-us-slt-hts festvox-kallpc16k festvox-kdlpc16k lame asterisk-core-sounds-en)
adapt=(sphinxtrain sphinxbase-utils pocketsphinx-testdata alsa-utils python3)

want=("${runtime[@]}")
case "${1:-}" in
  --run) ;;
  --voice) want+=("${testing[@]}" "${voice[@]}") ;;
  --adapt) want+=("${testing[@]}" "${voice[@]}" "${adapt[@]}") ;;
  *) want+=("${testing[@]}") ;;
esac

# The browser test runs playwright-core under Node.js; machines that come
# with Node.js keep theirs, others get Debian's.
if [ "${1:-}" != "--run" ] && ! command -v node >/dev/null; then
  want+=(nodejs npm)
fi

missing=()
for p in "${want[@]}"; do
  [[ $(dpkg-query -W -f='${Status}' "$p" 2>/dev/null) == *'install ok installed'* ]] || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#want[@]} packages present"
  exit 0
fi

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
echo "install-deps: done"
