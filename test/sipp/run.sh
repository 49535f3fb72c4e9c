#!/usr/bin/env bash
# SIPp interop scenarios against `ivr serve`: a peer no one here wrote.
#
#   bash test/sipp/run.sh bin/ivr
#
# Starts BIN serve on free loopback ports with a temporary data dir, waits for
# GET /healthz, runs each scenario (SIPp, UAC role, one call) and checks the
# server log where a scenario needs it, then checks no call was left up and
# that the server stops cleanly on SIGTERM. Prints PASS/FAIL per check and
# last a line "N passed, M failed"; exits non-zero on any failure, after the
# SIPp traces and the server log tail of what failed.
#
# Needs bash, coreutils and sipp (Debian sip-tester, which also ships the
# g711a.pcap and dtmf_2833_*.pcap played here). SIPp plays pcaps through a raw
# socket, so it needs root or CAP_NET_RAW; as another user, sipp is run with
# `sudo -n` when that works.
set -uo pipefail

usage="usage: $0 path/to/ivr"
bin=${1:?$usage}
[[ -x $bin ]] || { echo "sipp: $bin is not an executable (build it first: make build)" >&2; exit 2; }
[[ $bin == */* ]] || bin=./$bin
here=$(cd "$(dirname "$0")" && pwd)

server_pid=""
sipp_pid=""
work=""
keep=0

# stop_pid PID: SIGTERM, then SIGKILL after 10 s; returns the exit status.
stop_pid() {
  local pid=$1 i
  kill "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; return; }
  for ((i = 0; i < 100; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
}

cleanup() {
  [[ -n $sipp_pid ]] && stop_pid "$sipp_pid"
  [[ -n $server_pid ]] && stop_pid "$server_pid"
  sipp_pid="" server_pid=""
  if [[ -n $work && $keep == 0 ]]; then
    rm -rf "$work" 2>/dev/null
  fi
}
trap cleanup EXIT
trap 'echo "sipp: interrupted" >&2; exit 130' INT
trap 'echo "sipp: terminated" >&2; exit 143' TERM

now() { echo "${EPOCHREALTIME/[.,]/}"; } # microseconds
since() { local d=$(($(now) - $1)); printf '%d.%01ds' $((d / 1000000)) $((d / 100000 % 10)); }

# --- what we need --------------------------------------------------------

command -v sipp >/dev/null || { echo "sipp: sipp not found (apt-get install sip-tester)" >&2; exit 2; }
pcap_dir=""
for d in $(dpkg -L sip-tester 2>/dev/null | grep '/g711a\.pcap$' | xargs -r -n1 dirname) \
  /usr/share/sip-tester /usr/share/sipp /usr/local/share/sipp; do
  if [[ -r $d/g711a.pcap && -r $d/dtmf_2833_1.pcap ]]; then
    pcap_dir=$d
    break
  fi
done
[[ -n $pcap_dir ]] || { echo "sipp: g711a.pcap / dtmf_2833_1.pcap not found (package sip-tester)" >&2; exit 2; }

sipp_cmd=(sipp)
if [[ $EUID -ne 0 ]] && sudo -n true 2>/dev/null; then
  sipp_cmd=(sudo -n sipp) # raw socket for play_pcap_audio
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/ivr-sipp.XXXXXX")
# SIPp looks for pcaps next to the scenario: give it both in one directory.
cp "$here"/*.xml "$work"/
ln -s "$pcap_dir"/g711a.pcap "$pcap_dir"/dtmf_2833_*.pcap "$work"/

# --- free ports ----------------------------------------------------------
#
# One block of consecutive loopback ports that no socket uses (TCP or UDP,
# IPv4 or IPv6, per /proc/net), below the kernel's ephemeral range so
# outgoing sockets don't take them meanwhile. Layout of the block:
#   +0 SIP (UDP and TCP)  +1 HTTP  +2..+41 server RTP (20 pairs)
#   +48.. SIPp: 8 ports per scenario (+0 SIP, +4 media: RTP, RTCP, video)
block_size=128
declare -A used=()
read_used_ports() {
  local f line port
  used=()
  for f in /proc/net/tcp /proc/net/tcp6 /proc/net/udp /proc/net/udp6; do
    [[ -r $f ]] || continue
    while read -r _ line _; do
      port=${line##*:}
      [[ $port =~ ^[0-9A-Fa-f]{4}$ ]] && used[$((16#$port))]=1
    done <"$f"
  done
}
pick_block() {
  local try base p ok
  read_used_ports
  for ((try = 0; try < 200; try++)); do
    base=$((20000 + (RANDOM % 90) * 128)) # 20000..31392, even
    ok=1
    for ((p = base; p < base + block_size; p++)); do
      [[ -n ${used[$p]:-} ]] && { ok=0; break; }
    done
    ((ok)) && { echo "$base"; return 0; }
  done
  return 1
}

# --- server --------------------------------------------------------------

# healthz PORT: true when GET /healthz answers 200 (bash /dev/tcp, no curl).
healthz() {
  (
    exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
    printf 'GET /healthz HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3
    IFS= read -r -t 2 status <&3 || exit 1
    [[ $status == HTTP/1.?" 200 "* ]]
  ) 2>/dev/null
}

# calls_up PORT: the active call count from /healthz ("ok N calls").
calls_up() {
  (
    exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
    printf 'GET /healthz HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3
    while IFS= read -r -t 2 line <&3; do
      [[ $line =~ ^ok\ ([0-9]+)\ calls ]] && { echo "${BASH_REMATCH[1]}"; exit 0; }
    done
    exit 1
  ) 2>/dev/null
}

# The CANCEL scenario needs the server to ring a while before it answers;
# without that, CANCEL races the 200 OK. Use the server's ring time if it has one.
# The line-test menu (keys 1/2/0, then goodbye and BYE) is what the
# scenarios walk; a 1 s ring gives CANCEL a window before the answer.
# (The help text is read whole before grep looks at it: `grep -q` on a pipe
# exits at the first match, the writer can then die of SIGPIPE, and under
# pipefail the test was skipped at random, leaving CANCEL to race the answer.)
serve_extra=(--flow menu)
help_text=$("$bin" serve --help 2>&1)
if grep -q -- '--ring-time' <<<"$help_text"; then
  serve_extra+=(--ring-time 1s)
fi

ready_timeout=90 # seconds; loading and decoding the prompts takes a few
start_server() {
  local attempt deadline
  for ((attempt = 1; attempt <= 3; attempt++)); do
    base=$(pick_block) || { echo "sipp: no free port block found" >&2; return 1; }
    sip_port=$base http_port=$((base + 1)) rtp_lo=$((base + 2)) rtp_hi=$((base + 41))
    mkdir -p "$work/data"
    server_log=$work/server.log
    "$bin" serve --sip-addr "127.0.0.1:$sip_port" --http-addr "127.0.0.1:$http_port" \
      --rtp-ports "$rtp_lo-$rtp_hi" --data-dir "$work/data" "${serve_extra[@]}" >"$server_log" 2>&1 &
    server_pid=$!
    deadline=$((SECONDS + ready_timeout))
    while ((SECONDS < deadline)); do
      healthz "$http_port" && return 0
      if ! kill -0 "$server_pid" 2>/dev/null; then
        wait "$server_pid"
        echo "sipp: server exited ($?) before ready (attempt $attempt):" >&2
        tail -n 20 "$server_log" | sed 's/^/  | /' >&2
        server_pid=""
        grep -qi 'address already in use' "$server_log" && continue 2 # lost a port race
        return 1
      fi
      sleep 0.1 # poll interval
    done
    echo "sipp: server not ready after ${ready_timeout}s:" >&2
    tail -n 20 "$server_log" | sed 's/^/  | /' >&2
    return 1
  done
  return 1
}

# --- checks --------------------------------------------------------------

passed=0 failed=0
failures=() # "name|detail file"
pass() { passed=$((passed + 1)); printf 'PASS %-22s %s\n' "$1" "$2"; }
fail() {
  failed=$((failed + 1))
  printf 'FAIL %-22s %s\n' "$1" "$2"
  failures+=("$1")
}

# wait_log PATTERN SECONDS: true once the server log has a line matching the
# extended regexp (log lines can trail the SIP exchange by a moment).
wait_log() {
  local deadline=$((SECONDS + $2))
  while :; do
    grep -Eq -- "$1" "$server_log" && return 0
    ((SECONDS >= deadline)) && return 1
    sleep 0.1 # poll interval
  done
}

# scenario NAME XML TRANSPORT(u1|t1) TIMEOUT_S [LOG_REGEXP...]
# Runs one SIPp call; passes when SIPp exits 0 (the call went as scripted)
# and every LOG_REGEXP (with @CID@ standing for this call's Call-ID) shows up
# in the server log.
scenario() {
  local name=$1 xml=$2 transport=$3 tmo=$4
  shift 4
  local dir=$work/$name idx=${#ran[@]}
  local sipp_port=$((base + 48 + idx * 8)) media_port=$((base + 52 + idx * 8))
  local cid_prefix="$name-$$-1-" cid_re re start rc why="" first
  ran+=("$name")
  mkdir -p "$dir"
  if ! kill -0 "$server_pid" 2>/dev/null; then
    fail "$name" "(0.0s) server is not running"
    return
  fi
  start=$(now)
  # Foreground in spirit: started in the background only so that the traps
  # run (and kill it) if we are interrupted while it runs.
  timeout -k 5 $((tmo + 15)) "${sipp_cmd[@]}" "127.0.0.1:$sip_port" \
    -sf "$work/$xml" -s ivr -i 127.0.0.1 -p "$sipp_port" -mp "$media_port" -t "$transport" \
    -m 1 -l 1 -nostdin \
    -timeout "${tmo}s" -timeout_error -recv_timeout 10000 \
    -cid_str "$name-$$-%u-%p@%s" \
    -trace_err -error_file "$dir/errors.log" \
    -trace_msg -message_file "$dir/messages.log" \
    >"$dir/stdout.log" 2>&1 &
  sipp_pid=$!
  wait "$sipp_pid"
  rc=$?
  sipp_pid=""
  if ((rc != 0)); then
    case $rc in
      1) why="sipp: call failed" ;;
      99) why="sipp: no call completed" ;;
      124 | 137) why="sipp: killed after ${tmo}s+15s" ;;
      *) why="sipp: exit $rc" ;;
    esac
    # The first event SIPp logged, on one line: what it expected and got.
    first=$(grep -ahm1 -E 'Aborting|Failed|timeout|[Ee]rror|Can.t' "$dir/errors.log" "$dir/stdout.log" 2>/dev/null |
      sed -E 's/^[0-9-]+\s+[0-9:.]+\s+[0-9.]+: //' | head -n1)
    [[ -n $first ]] && why+=": ${first:0:200}"
  else
    cid_re=$(printf '%s' "$cid_prefix" | sed 's/[.[\*^$()+?{}|]/\\&/g')'[0-9]+@127\.0\.0\.1'
    for re in "$@"; do
      if ! wait_log "${re//@CID@/$cid_re}" 5; then
        why="server log lacks /${re//@CID@/$cid_prefix*}/"
        break
      fi
    done
  fi
  if [[ -z $why ]]; then
    pass "$name" "($(since "$start"))"
  else
    fail "$name" "($(since "$start")) $why"
  fi
}

# show_failure NAME: the traces of a failed scenario.
show_failure() {
  local dir=$work/$1 f
  echo "---- $1"
  for f in errors.log stdout.log; do
    [[ -s $dir/$f ]] || continue
    echo "  $f (last 30 lines):"
    grep -av '^\s*$' "$dir/$f" | tail -n 30 | sed 's/^/  | /'
  done
  if [[ -s $dir/messages.log ]]; then
    echo "  SIP messages (first line and CSeq of each):"
    grep -aE '^(UDP|TCP) message|^[A-Z]+ sip:|^SIP/2\.0 [0-9]|^CSeq:' "$dir/messages.log" | sed 's/^/  | /' | tail -n 60
  fi
}

# --- run -----------------------------------------------------------------

run_start=$(now)
start_server || { echo "0 passed, 1 failed"; keep=1; exit 1; }
echo "sipp: $bin serve${serve_extra[*]:+ ${serve_extra[*]}}: SIP 127.0.0.1:$sip_port (UDP, TCP)," \
  "HTTP :$http_port, RTP $rtp_lo-$rtp_hi; ready in $(since "$run_start");" \
  "SIPp $(sipp -v 2>/dev/null | grep -o 'v[0-9][^ ]*' | head -1 | sed 's/\.$//'), pcaps from $pcap_dir"

ran=()
key='msg="menu: key" call_id=@CID@ digit=1 source=rfc4733( |$)'
scenario options options.xml u1 10
scenario no_codec no_codec.xml u1 10
scenario malformed_sdp malformed_sdp.xml u1 10
scenario cancel cancel.xml u1 10
scenario cancel_after_answer cancel_after_answer.xml u1 10 \
  'msg="call ended" call_id=@CID@ cause="sip: caller hung up"'
scenario call_bye_from_caller call_bye_from_caller.xml u1 20 \
  'msg="call ended" call_id=@CID@ cause="sip: caller hung up"'
scenario tcp call_bye_from_caller.xml t1 20 \
  'msg="call answered" call_id=@CID@ .*transport=TCP' \
  'msg="call ended" call_id=@CID@ cause="sip: caller hung up"'
scenario call_rfc4733 call_rfc4733.xml u1 40 \
  "$key" 'msg="call ended" call_id=@CID@ cause="flow finished"'

# Every call is over: none left up on the server.
start=$(now)
n=""
for ((i = 0; i < 50; i++)); do
  n=$(calls_up "$http_port") && [[ $n == 0 ]] && break
  sleep 0.1 # poll interval
done
if [[ $n == 0 ]]; then
  pass no_calls_left "($(since "$start"))"
else
  fail no_calls_left "(5s) /healthz still counts ${n:-?} call(s) up"
fi

# SIGTERM stops the server cleanly (exit 0) within 10 s.
start=$(now)
kill "$server_pid" 2>/dev/null
for ((i = 0; i < 100; i++)); do
  kill -0 "$server_pid" 2>/dev/null || break
  sleep 0.1 # poll interval
done
if kill -0 "$server_pid" 2>/dev/null; then
  kill -9 "$server_pid" 2>/dev/null
  wait "$server_pid" 2>/dev/null
  fail server_stop "(10s) still running 10 s after SIGTERM; killed"
else
  wait "$server_pid"
  rc=$?
  if ((rc == 0)); then
    pass server_stop "($(since "$start"))"
  else
    fail server_stop "($(since "$start")) exit status $rc after SIGTERM"
  fi
fi
server_pid=""

if ((failed > 0)); then
  keep=1
  echo
  for name in "${failures[@]}"; do
    [[ -d $work/$name ]] && show_failure "$name"
  done
  if grep -qs 'raw IPv4 socket' "$work"/*/errors.log "$work"/*/stdout.log; then
    echo "hint: SIPp plays pcaps through a raw socket: run as root, or once: sudo setcap cap_net_raw+ep $(command -v sipp)"
  fi
  echo "---- server log (last 40 lines of $work/server.log):"
  tail -n 40 "$server_log" | sed 's/^/  | /'
  echo "sipp: traces kept in $work; whole run $(since "$run_start")"
else
  echo "sipp: whole run $(since "$run_start")"
fi
echo "$passed passed, $failed failed"
((failed == 0))
