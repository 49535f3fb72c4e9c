#!/usr/bin/env bash
# SRTP cost: the same menu load run as scripts/load.sh, once with plain RTP
# over UDP signalling and once over TLS with SDES-SRTP, and the server's CPU
# for each (docs/tls.md). The certificate is a throwaway made here with
# openssl and deleted at the end.
#   scripts/load-srtp.sh [BIN] [CALLS] [RATE]
set -euo pipefail
bin=${1:-bin/ivr}; calls=${2:-50}; rate=${3:-25}
work=$(mktemp -d); srv=
trap '[ -n "$srv" ] && kill $srv 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=127.0.0.1 \
  -addext subjectAltName=IP:127.0.0.1 -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null
cat >"$work/menu.txt" <<'S'
wait-silence 40
dtmf 1
wait-silence 20
S
hz=$(getconf CLK_TCK)
run() { # run NAME TARGET [ivr call flags...]
  local name=$1 target=$2; shift 2
  rm -rf "$work/data"
  "$bin" serve --sip-addr 127.0.0.1:27060 --sip-tls-addr 127.0.0.1:27061 --sip-tls-cert "$work/cert.pem" \
    --sip-tls-key "$work/key.pem" --http-addr 127.0.0.1:27080 --rtp-ports 36000-37998 --data-dir "$work/data" \
    --max-calls $((calls + 10)) --flow menu --asr=false >"$work/serve-$name.log" 2>&1 &
  srv=$!
  for _ in $(seq 300); do curl -sf http://127.0.0.1:27080/healthz >/dev/null 2>&1 && break; sleep 0.1; done
  "$bin" call --calls "$calls" --rate "$rate" --script "$work/menu.txt" --json --rtp-ports 40000-47998 "$@" \
    "$target" >"$work/events-$name.json" &
  local cli=$!
  sleep $(( calls / rate + 2 ))
  local t0 s0 t1 s1
  t0=$(awk '{print $14 + $15}' "/proc/$srv/stat"); s0=$(date +%s.%N)
  sleep 8
  t1=$(awk '{print $14 + $15}' "/proc/$srv/stat"); s1=$(date +%s.%N)
  wait $cli || echo "$name: ivr call exited non-zero" >&2
  kill $srv; wait $srv 2>/dev/null || true; srv=
  local cpu; cpu=$(echo "($t1 - $t0) / $hz / ($s1 - $s0) * 100" | bc -l)
  printf '%-5s %d calls: server CPU %.1f%% of one core (%.3f%% per call); ' "$name" "$calls" "$cpu" "$(echo "$cpu / $calls" | bc -l)"
  tail -1 "$work/events-$name.json" | grep -o '"answered":[0-9]*,"failed":[0-9]*' || tail -1 "$work/events-$name.json"
  echo "  srtp calls logged by the server: $(grep -c 'msg="srtp stats"' "$work/serve-$name.log" || true)"
  grep -o 'auth_failures=[0-9]* replays=[0-9]*' "$work/serve-$name.log" | sort | uniq -c | sed 's/^/  /' || true
}
run plain "sip:ivr@127.0.0.1:27060"
run srtp "sip:ivr@127.0.0.1:27061;transport=tls" --tls-ca "$work/cert.pem" --srtp
