#!/usr/bin/env bash
# Real-browser test of the agent softphone: builds ivr, starts `ivr serve`
# on loopback with a temporary data dir and one agent, and runs
# agent.test.mjs (headless Debian chromium via playwright-core, fake
# microphone from a WAV) against it with `ivr call` as the caller.
# Screenshots, recordings and the server log go to out/browser/.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
out=${OUT_DIR:-$repo/out/browser}
# Ports: random by default so parallel runs (and other servers) don't
# collide; `ivr call` itself uses RTP ports 40000-49999.
base=$((RANDOM % 40))
sip_port=${BROWSER_SIP_PORT:-$((35000 + base * 10))}
http_port=${BROWSER_HTTP_PORT:-$((35001 + base * 10))}
rtp_ports=${BROWSER_RTP_PORTS:-$((50000 + base * 200))-$((50198 + base * 200))}
webrtc_ports=${BROWSER_WEBRTC_PORTS:-$((60000 + base * 100))-$((60099 + base * 100))}
work=$(mktemp -d)
serve_pid=""
cleanup() {
	if [ -n "$serve_pid" ]; then kill "$serve_pid" 2>/dev/null || true; wait "$serve_pid" 2>/dev/null || true; fi
	rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$out"

(cd "$here" && npm ci --no-audit --no-fund --silent)
(cd "$repo" && go build -o "$work/ivr" ./cmd/ivr)

sox -n -r 48000 -c 1 -b 16 "$work/agent-600hz.wav" synth 30 sine 600 vol 0.5
sox -n -r 8000 -c 1 -b 16 "$work/caller-tone.wav" synth 8 sine 1000 vol 0.5
cat > "$work/caller-hangs-up.txt" <<'SCRIPT'
wait-silence 20
dtmf 0
wait 5
play caller-tone.wav
hangup
SCRIPT
cat > "$work/agent-hangs-up.txt" <<'SCRIPT'
wait-silence 20
dtmf 0
wait 60
SCRIPT

password="browser-test-$$-pass"
printf '%s\n' "$password" > "$work/password"
"$work/ivr" agents add --data-dir "$work/data" --password-file "$work/password" ann >/dev/null

"$work/ivr" serve --data-dir "$work/data" --demo-accounts --asr=false \
	--sip-addr "127.0.0.1:$sip_port" --http-addr "127.0.0.1:$http_port" \
	--rtp-ports "$rtp_ports" --webrtc-ports "$webrtc_ports" --agent-offer-timeout 15s \
	>"$out/serve.log" 2>&1 &
serve_pid=$!
for _ in $(seq 1 120); do
	if curl -fsS "http://127.0.0.1:$http_port/healthz" >/dev/null 2>&1; then break; fi
	if ! kill -0 "$serve_pid" 2>/dev/null; then echo "ivr serve exited; see $out/serve.log" >&2; exit 1; fi
	sleep 0.5
done

BASE_URL="http://127.0.0.1:$http_port" IVR_BIN="$work/ivr" SIP_URI="sip:ivr@127.0.0.1:$sip_port" \
	OUT_DIR="$out" AGENT_WAV="$work/agent-600hz.wav" WORK_DIR="$work" DATA_DIR="$work/data" \
	AGENT_NAME=ann AGENT_PASSWORD="$password" \
	node "$here/agent.test.mjs"
