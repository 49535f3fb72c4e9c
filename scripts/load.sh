#!/usr/bin/env bash
# Load run: `ivr serve` on loopback running the keypad menu flow (issue 2's
# benchmark: menu calls, no speech recognition), N scripted calls from
# `ivr call`, server CPU and memory read from /proc while the calls are up.
#   scripts/load.sh [BIN] [CALLS] [RATE]
set -euo pipefail
bin=${1:-bin/ivr}; calls=${2:-200}; rate=${3:-50}
# With PIN=1 the server runs on CPU 0 and the load generator on CPU 1, so the
# server's pacing is measured without the generator competing for its core.
srv_pin=(); cli_pin=()
if [ "${PIN:-0}" = 1 ] && command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
  srv_pin=(taskset -c 0); cli_pin=(taskset -c 1)
fi
work=$(mktemp -d); trap 'kill $srv 2>/dev/null || true; wait 2>/dev/null; [ -n "${KEEP:-}" ] && cp "$work/serve.log" "$KEEP"; rm -rf "$work"' EXIT
sip=127.0.0.1:27060; http=127.0.0.1:27080
GODEBUG=${SERVER_GODEBUG:-} "${srv_pin[@]}" "$bin" serve --sip-addr $sip --http-addr $http --rtp-ports 36000-37998 --data-dir "$work/data" \
  --max-calls $((calls + 10)) --log-level info --flow menu --asr=false ${SERVE_ARGS:-} >"$work/serve.log" 2>&1 &
srv=$!
for _ in $(seq 300); do curl -sf "http://$http/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
hz=$(getconf CLK_TCK)
ticks() { awk '{print $14 + $15}' "/proc/$srv/stat"; }
# The menu script: listen to welcome + menu (~12 s), press 1, hear its
# prompt and goodbye; the server hangs up.
cat >"$work/menu.txt" <<'S'
wait-silence 40
dtmf 1
wait-silence 20
S
echo "load: $calls calls at $rate/s against $sip (server pid $srv)" >&2
"${cli_pin[@]}" "$bin" call --calls "$calls" --rate "$rate" --script "$work/menu.txt" --json --rtp-ports 40000-47998 \
  "sip:ivr@$sip" >"$work/events.json" &
cli=$!
# Sample the server while every call is up: from when all have started
# until the first ends (the menu takes ~12 s before the key press).
sleep $(( calls / rate + 2 ))
t0=$(ticks); s0=$(date +%s.%N)
sleep 8
t1=$(ticks); s1=$(date +%s.%N)
rss=$(awk '/VmRSS/{print $2}' "/proc/$srv/status")
up=$(curl -s "http://$http/healthz" || true)
wait $cli || echo "load: ivr call exited non-zero" >&2
cpu=$(echo "($t1 - $t0) / $hz / ($s1 - $s0) * 100" | bc -l)
printf 'server while %s: CPU %.1f%% of one core (%.3f%% per call), RSS %d MiB\n' "$up" "$cpu" "$(echo "$cpu / $calls" | bc -l)" $((rss / 1024))
tail -1 "$work/events.json"
# The server's own pacing, from its per-call log lines, weighted by packets sent.
awk '/msg="call ended"/ { for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
       n += v["rtp_sent"]; w += v["rtp_sent"] * v["send_20ms_pm5"]; g = v["max_send_gap"]
       # a Go duration: 41.2ms, 950µs, 1.5s
       if (g ~ /ms$/) g = g + 0; else if (g ~ /µs$/) g = g / 1000; else if (g ~ /s$/) g = g * 1000; else g = 0
       if (g > max) max = g }
     END { if (n) printf "server send spacing: %.3f%% of %d packets within 20±5 ms, largest gap %.1f ms\n", 100 * w / n, n, max }' "$work/serve.log"
