#!/usr/bin/env bash
# Scanner flood against the real binaries: `ivr serve` (menu flow, trunk
# 127.0.0.1 only, one `ivr sipusers` user), legitimate calls with `ivr call`
# (trunk calls from 127.0.0.1 at 20/s and digest-authenticated softphone
# calls from 127.0.0.2 at 2/s, under the default --sip-rate), first idle,
# then while SIPp floods unauthenticated INVITEs from 127.0.0.66. Prints
# setup p50/p95 and success per phase, server CPU, the server's ban log
# line, and how many of SIPp's INVITEs were never answered.
#   scripts/flood.sh [BIN] [CALLS] [FLOOD_RATE]
set -euo pipefail
bin=${1:-bin/ivr}; calls=${2:-200}; frate=${3:-200}
command -v sipp >/dev/null || { echo "flood: sipp not installed (scripts/install-deps.sh)" >&2; exit 2; }
work=$(mktemp -d)
srv=""; fl=""
cleanup() {
  [ -n "$fl" ] && kill "$fl" 2>/dev/null
  [ -n "$srv" ] && kill "$srv" 2>/dev/null
  wait 2>/dev/null || true
  [ -n "${KEEP:-}" ] && cp -r "$work" "$KEEP"
  rm -rf "$work"
}
trap cleanup EXIT
sip=127.0.0.1:27160; http=127.0.0.1:27180
printf 'flood-test-password\n' >"$work/pw"
"$bin" sipusers add --data-dir "$work/data" --password-file "$work/pw" alice >/dev/null
"$bin" serve --sip-addr $sip --http-addr $http --rtp-ports 30000-33998 --data-dir "$work/data" \
  --max-calls $((calls * 2)) --flow menu --asr=false --sip-trunks 127.0.0.1 --log-level info >"$work/serve.log" 2>&1 &
srv=$!
for _ in $(seq 300); do curl -sf "http://$http/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
hz=$(getconf CLK_TCK)
ticks() { awk '{print $14 + $15}' "/proc/$srv/stat"; }

# phase NAME: trunk and softphone calls at once; prints one line per kind.
phase() {
  local t0 s0 t1 s1
  t0=$(ticks); s0=$(date +%s.%N)
  "$bin" call --calls "$calls" --rate 20 --duration 1s --json --rtp-ports 40000-43998 \
    "sip:ivr@$sip" >"$work/$1-trunk.json" 2>>"$work/call.log" || true &
  local a=$!
  "$bin" call --calls $((calls / 8)) --rate 2 --duration 1s --json --rtp-ports 44000-45998 --local 127.0.0.2:0 \
    --from alice --auth-password-file "$work/pw" "sip:ivr@$sip" >"$work/$1-soft.json" 2>>"$work/call.log" || true &
  local b=$!
  wait $a $b || true
  t1=$(ticks); s1=$(date +%s.%N)
  for kind in trunk soft; do
    tail -1 "$work/$1-$kind.json" | jq -r --arg p "$1" --arg k "$kind" \
      '.summary | "\($p) \($k): \(.answered)/\(.attempted) set up, setup p50 \(.setup_p50_ms) ms p95 \(.setup_p95_ms) ms"'
  done
  printf '%s: server CPU %.1f%% of one core\n' "$1" "$(echo "($t1 - $t0) / $hz / ($s1 - $s0) * 100" | bc -l)"
}

phase idle
# SIPp's built-in UAC scenario from 127.0.0.66: an INVITE a call, no
# retransmissions (-nr), no default behaviours (-nd), a call given up after
# 500 ms without the answer it wants, no cap on calls open (-l).
sipp -sn uac -i 127.0.0.66 -p 5999 -r "$frate" -nr -nd -l 1000000 -recv_timeout 500 -m 1000000 \
  -trace_stat -stf "$work/sipp.csv" \
  -fd 1 -nostdin "$sip" >"$work/sipp.out" 2>&1 &
fl=$!
sleep 1
phase flood
[ -n "$fl" ] && kill "$fl" 2>/dev/null; fl=""
grep -m1 'sip source banned' "$work/serve.log" || true
# SIPp's statistics: columns ElapsedTime(C) and TotalCallCreated, and the
# responses it got (a banned source gets none after its first few).
awk -F';' 'NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
  { last = $0 } END { split(last, v, ";")
    printf "sipp: %s INVITEs sent in %s; %s got no answer within 500 ms\n", v[col["TotalCallCreated"]],
      v[col["ElapsedTime(C)"]], v[col["FailedTimeoutOnRecv(C)"]] }' "$work/sipp.csv"
