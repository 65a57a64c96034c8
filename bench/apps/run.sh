#!/usr/bin/env bash
# bench/apps/run.sh: media application figures of gopbx on this machine, with
# the load generator of bench/sip (cmd/sipbench, bench/load). Prints markdown.
#
#   1. IVR: N simultaneous calls to a virtual receptionist (extension 800,
#      made through the REST API with a custom rule '9' -> HANGUP). Each call
#      sends G.711 (20 ms) and hears the menu prompt, then the silence the IVR
#      sends while it waits for a key; at DTMF_AT it sends '9' as an RFC 4733
#      telephone-event, and the IVR's BYE (after "goodbye") within 5 s proves
#      the key was detected. Per call: the largest gap between two RTP packets
#      from gopbx (arrival times in sipbench, from the first packet until the
#      BYE); calls with a gap over 40 ms.
#   2. Voicemail: N simultaneous calls to N distinct users whose phones are not
#      registered, so each goes to voicemail: greeting, beep, then a recording
#      of what sipbench sends for the rest of HOLD. sipbench's audio carries a
#      frame counter (one mu-law code per packet), so each recording shows the
#      20 ms frames missing from it (sipbench -mode recordings); messages are
#      counted in the database (sqlite3) and as WAV files.
#   3. Mixing: go test -bench Mix ./internal/media/audio.
#
# gopbx's CPU time (utime+stime, /proc) is taken over a steady window with all
# N calls up (sipbench -window) and over the whole run (until 3 s after the
# last call), per call. If N calls miss the gap target (any call over 40 ms,
# or calls that failed), the IVR (voicemail) run is repeated with the next
# smaller N of GOPBX_APPS_FALLBACK until one meets it. A CPU profile (perf,
# when installed: gopbx has no pprof endpoint) is taken for PROFILE_S seconds
# of the first IVR run, with all calls up.
#
# Knobs (defaults): GOPBX_APPS_CALLS (300), GOPBX_APPS_FALLBACK
# ("250 200 150 100"), GOPBX_APPS_HOLD (20s), GOPBX_APPS_DTMF_AT (10s),
# GOPBX_APPS_RATE (60 calls/s), GOPBX_APPS_RTP_PORTS (45000-65000),
# GOPBX_APPS_PERF (1), GOPBX_APPS_PROFILE_S (10).
# Everything lives in a temp folder that is removed at the end; every process
# started here is stopped by its pid. Every load run is bounded (sipbench
# -timeout).
set -euo pipefail
cd "$(dirname "$0")/../.."
export PATH=/usr/local/go/bin:$HOME/go/bin:$PATH

CALLS=${GOPBX_APPS_CALLS:-300}
FALLBACK=${GOPBX_APPS_FALLBACK-250 200 150 100}
HOLD=${GOPBX_APPS_HOLD:-20s}
DTMF_AT=${GOPBX_APPS_DTMF_AT:-10s}
RATE=${GOPBX_APPS_RATE:-60}
RTP_PORTS=${GOPBX_APPS_RTP_PORTS:-45000-65000}
PERF=${GOPBX_APPS_PERF:-1}
PROFILE_S=${GOPBX_APPS_PROFILE_S:-10}
DOMAIN=bench.test
FIRST=10000 # the caller; mailboxes are FIRST+1 ..
IVR=800
GAP_LIMIT=40ms

for tool in python3 curl; do
  command -v "$tool" >/dev/null || { echo "bench/apps: $tool is missing" >&2; exit 1; }
done
max_calls=$CALLS
for n in $FALLBACK; do [ "$n" -gt "$max_calls" ] && max_calls=$n; done

tmp=$(mktemp -d /tmp/gopbx-bench-apps.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT

echo "== build" >&2
go build -o "$tmp/gopbx" ./cmd/gopbx
go build -o "$tmp/sipbench" ./cmd/sipbench
go build -o "$tmp/loadusers" ./bench/loadusers
seeded=$("$tmp/loadusers" --data "$tmp/seeded" --domain "$DOMAIN" --first "$FIRST" --users $((max_calls + 1)) --password 'pw{ext}' \
  --disable-every 0 --max-extensions $((max_calls + 10)))
echo "$seeded" >&2
TENANT=$(echo "$seeded" | sed -n 's/.*tenant \([0-9]*\) .*/\1/p')

freeport() { python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
cpu_ticks() { awk '{ s = $0; sub(/.*\) /, "", s); split(s, f, " "); print f[12] + f[13] }' "/proc/$1/stat"; }
json() { python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print(eval(sys.argv[2], {}, d))' "$1" "$2"; }
stop() {
  kill "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
  local keep=() p
  for p in "${pids[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
  pids=("${keep[@]}")
}
waitpid() { for _ in $(seq 300); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done; }
# bench ARGS...: sipbench with a bound; its own CPU seconds (user+sys) go to $tmp/bench.cpu
bench() {
  local TIMEFORMAT='%U %S'
  { time "$tmp/sipbench" -json -domain "$DOMAIN" -timeout 3m "$@" 2>"$tmp/bench.err"; } 2>"$tmp/bench.time"
  awk '{print $1 + $2}' "$tmp/bench.time" >"$tmp/bench.cpu"
}

GOPBX_PID="" GOPBX_DATA=""
start_gopbx() { # start_gopbx NAME: a fresh copy of the seeded database
  GOPBX_DATA=$tmp/gopbx-$1
  rm -rf "$GOPBX_DATA"; cp -r "$tmp/seeded" "$GOPBX_DATA"
  GOPBX_SIP=$(freeport)
  local api; api=$(freeport)
  GOPBX_API=http://127.0.0.1:$api/api
  "$tmp/gopbx" serve --data "$GOPBX_DATA" --api-insecure-http --api-listen "127.0.0.1:$api" --provision-listen "" \
    --sip-udp "127.0.0.1:$GOPBX_SIP" --sip-tcp "" --sip-tls "" --admin-password 'Admin#12345' --log-level warn \
    --sip-allow 127.0.0.0/8 --rtp-ports "$RTP_PORTS" >"$GOPBX_DATA.log" 2>&1 &
  GOPBX_PID=$!
  pids+=("$GOPBX_PID")
  for _ in $(seq 100); do curl -sf -o /dev/null "$GOPBX_API/openapi.json" && break; sleep 0.1; done
  sleep 1
}
apicall() { # apicall METHOD PATH TOKEN [JSON]: the response body; fails on an HTTP error
  local args=(-sf -X "$1" "$GOPBX_API$2" -H 'Content-Type: application/json')
  [ -n "$3" ] && args+=(-H "Authorization: Bearer $3")
  [ -n "${4:-}" ] && args+=(-d "$4")
  curl "${args[@]}"
}
setup_ivr() { # the IVR on $IVR, '9' hangs up, through the REST API
  local adm hangup='{"action": "HANGUP"}'
  adm=$(json "$(apicall POST /login "" '{"username":"admin","password":"Admin#12345"}')" access_token)
  apicall POST "/tenants/switch?id=$TENANT" "$adm" >/dev/null
  apicall POST /ivrs "$adm" "{\"name\": \"bench\", \"extension_number\": \"$IVR\", \"pin\": \"1234\",
    \"custom_forward_rules\": [{\"user_input\": \"9\", \"office_hours_forward_rule\": $hangup,
    \"non_office_hours_forward_rule\": $hangup, \"holiday_forward_rule\": $hangup}]}" >/dev/null
}
ramp() { python3 -c "print($1 / $RATE)"; }
secs() { python3 -c "print(float('$1'.rstrip('s')))"; }

declare -A R # R[key|N] = value
load_start=$(cut -d' ' -f1-3 /proc/loadavg)

# --- IVR ------------------------------------------------------------------------
ivr_ns=()
profiled=0
for n in $CALLS $FALLBACK; do
  ivr_ns+=("$n")
  start_gopbx "ivr-$n"
  setup_ivr
  # The window: from all calls up until the first key (each call's prompt
  # done, the IVR waiting for a key with silence).
  window=$(python3 -c "print(f'{max(1.0, $(secs "$DTMF_AT") - $(ramp "$n") - 1):.1f}s')")
  pp=""
  if [ $profiled = 0 ] && [ "$PERF" = 1 ] && command -v perf >/dev/null; then
    # From when all calls are up, for PROFILE_S seconds.
    (sleep "$(ramp "$n")"; exec perf record -F 499 -g -p "$GOPBX_PID" -o "$tmp/ivr.perf" -- sleep "$PROFILE_S") >/dev/null 2>&1 &
    pp=$!
    pids+=("$pp")
    profiled=1
  fi
  t0=$(cpu_ticks "$GOPBX_PID")
  bench -mode media -target "127.0.0.1:$GOPBX_SIP" -caller "$FIRST:pw$FIRST" -did "$IVR" -dtmf "9@$DTMF_AT" \
    -calls "$n" -rate "$RATE" -hold "$HOLD" -window "$window" -watch "$GOPBX_PID" -gap-limit "$GAP_LIMIT" >"$tmp/out" || true
  sleep 3
  R[ivr_cpu|$n]=$(($(cpu_ticks "$GOPBX_PID") - t0))
  R[ivr|$n]=$(cat "$tmp/out")
  R[ivr_gen|$n]=$(cat "$tmp/bench.cpu")
  [ -n "$pp" ] && waitpid "$pp"
  echo "ivr $n: ${R[ivr|$n]}" >&2
  stop "$GOPBX_PID"
  [ -n "${R[ivr|$n]}" ] && [ "$(json "${R[ivr|$n]}" 'GapCalls + Failed + (Answered - Reacted)')" = 0 ] && break
done

# --- voicemail -------------------------------------------------------------------
vm_ns=()
for n in $CALLS $FALLBACK; do
  vm_ns+=("$n")
  start_gopbx "vm-$n"
  # The window: from all calls up until the first call's hold ends.
  window=$(python3 -c "print(f'{max(1.0, $(secs "$HOLD") - $(ramp "$n") - 2):.1f}s')")
  t0=$(cpu_ticks "$GOPBX_PID")
  bench -mode media -target "127.0.0.1:$GOPBX_SIP" -caller "$FIRST:pw$FIRST" -did $((FIRST + 1)) -did-count "$n" \
    -calls "$n" -rate "$RATE" -hold "$HOLD" -window "$window" -watch "$GOPBX_PID" >"$tmp/out" || true
  sleep 3
  R[vm_cpu|$n]=$(($(cpu_ticks "$GOPBX_PID") - t0))
  R[vm|$n]=$(cat "$tmp/out")
  R[vm_gen|$n]=$(cat "$tmp/bench.cpu")
  stop "$GOPBX_PID"
  R[vm_files|$n]=$(find "$GOPBX_DATA/voicemail" -name '*.wav' 2>/dev/null | wc -l)
  R[vm_rows|$n]=n/a
  command -v sqlite3 >/dev/null && R[vm_rows|$n]=$(sqlite3 "$GOPBX_DATA/gopbx.db" 'select count(*) from voicemails' 2>/dev/null || echo n/a)
  R[vm_rec|$n]=$("$tmp/sipbench" -json -mode recordings -dir "$GOPBX_DATA/voicemail" -gap-limit "$GAP_LIMIT" || echo '{}')
  echo "voicemail $n: ${R[vm|$n]}; messages: ${R[vm_files|$n]} files, ${R[vm_rows|$n]} rows; ${R[vm_rec|$n]}" >&2
  rm -rf "$GOPBX_DATA"
  [ -n "${R[vm|$n]}" ] && [ "$(json "${R[vm|$n]}" 'Failed')" = 0 ] && [ "$(json "${R[vm_rec|$n]}" "GapFiles + ($n - Files)")" = 0 ] && break
done

# --- mixing ----------------------------------------------------------------------
mix=$(go test -run '^$' -bench Mix -benchmem ./internal/media/audio 2>&1 | grep -E '^Benchmark' || echo "(the benchmark did not run)")

# --- tables ----------------------------------------------------------------------
ms() { json "$1" "f'{$2/1e6:.0f}'"; }
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)
echo
echo "Machine: $(nproc) vCPU, $cpu, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(go version | cut -d' ' -f3), $(uname -sr); load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "gopbx: $(git describe --always --dirty 2>/dev/null || echo unknown) (working tree as built at the start); load average at the start: $load_start"
echo
echo "### IVR: menu prompt, then silence while waiting; '9' (RFC 4733) at $DTMF_AT hangs up; hold up to $HOLD, $RATE new calls/s"
echo
header() { # header: the table's first lines, a column per N of ns
  echo "| figure | $(for n in "${ns[@]}"; do printf '%s calls | ' "$n"; done | sed 's/ | $//') |"
  echo "|---|$(for n in "${ns[@]}"; do printf -- '---|'; done)"
}
row() { # row LABEL KEY EXPR: EXPR over R[KEY|N]'s JSON for each N of ns
  local line="| $1 |" n
  for n in "${ns[@]}"; do line+=" $(json "${R[$2|$n]:-"{}"}" "$3" 2>/dev/null || echo n/a) |"; done
  echo "$line"
}
ns=("${ivr_ns[@]}")
header
row "calls set up (answered / attempted)" ivr "f'{Answered} / {Attempted}'"
row "calls up at once" ivr MaxUp
row "largest gap per call, ms: p50 / p99 / max" ivr "f'{GapP50/1e6:.0f} / {GapP99/1e6:.0f} / {GapMax/1e6:.0f}'"
row "calls with a gap > 40 ms" ivr GapCalls
row "DTMF detected / sent (calls hung up by the IVR within 5 s of '9')" ivr "f'{Reacted} / {DigitCalls}'"
row "gopbx CPU with all calls up, % of one CPU (window)" ivr "f\"{100*Procs[0]['CPU']/Window:.0f}% over {Window/1e9:.1f} s\""
row "gopbx CPU per 100 calls up, % of one CPU" ivr "f\"{100*Procs[0]['CPU']/Window*100/MaxUp:.1f}\""
line="| gopbx CPU per call, ms (whole run and 3 s after) |"
for n in "${ivr_ns[@]}"; do line+=" $(python3 -c "print(f'{${R[ivr_cpu|$n]} * 10 / max(1, $(json "${R[ivr|$n]}" Answered)):.1f}')") |"; done
echo "$line"
line="| sipbench CPU, s (same machine) |"
for n in "${ivr_ns[@]}"; do line+=" ${R[ivr_gen|$n]} |"; done
echo "$line"
row "gopbx RSS with calls up, MiB" ivr "f\"{Procs[0]['RSSUp']/1024:.1f}\""
echo
echo "### Voicemail: $RATE new calls/s to distinct unregistered users, greeting + beep, then recording until $HOLD"
echo
ns=("${vm_ns[@]}")
header
row "calls set up (answered / attempted)" vm "f'{Answered} / {Attempted}'"
row "calls up at once" vm MaxUp
line="| messages stored (database rows / WAV files) |"
for n in "${vm_ns[@]}"; do line+=" ${R[vm_rows|$n]} / ${R[vm_files|$n]} |"; done
echo "$line"
row "recorded length, s: min / p50 / max" vm_rec "f'{DurationMin/1e9:.1f} / {DurationP50/1e9:.1f} / {DurationMax/1e9:.1f}'"
row "largest gap per recording, ms: p50 / p99 / max" vm_rec "f'{GapP50/1e6:.0f} / {GapP99/1e6:.0f} / {GapMax/1e6:.0f}'"
row "recordings with a gap > 40 ms" vm_rec GapFiles
row "largest gap per call in gopbx's RTP (greeting), ms: p50 / p99 / max" vm "f'{GapP50/1e6:.0f} / {GapP99/1e6:.0f} / {GapMax/1e6:.0f}'"
row "gopbx CPU with all calls up, % of one CPU (window)" vm "f\"{100*Procs[0]['CPU']/Window:.0f}% over {Window/1e9:.1f} s\""
row "gopbx CPU per 100 calls up, % of one CPU" vm "f\"{100*Procs[0]['CPU']/Window*100/MaxUp:.1f}\""
line="| gopbx CPU per call, ms (whole run and 3 s after) |"
for n in "${vm_ns[@]}"; do line+=" $(python3 -c "print(f'{${R[vm_cpu|$n]} * 10 / max(1, $(json "${R[vm|$n]}" Answered)):.1f}')") |"; done
echo "$line"
line="| sipbench CPU, s (same machine) |"
for n in "${vm_ns[@]}"; do line+=" ${R[vm_gen|$n]} |"; done
echo "$line"
row "gopbx RSS with calls up, MiB" vm "f\"{Procs[0]['RSSUp']/1024:.1f}\""
echo
echo "### Mixing (go test -run '^\$' -bench Mix -benchmem ./internal/media/audio)"
echo
echo '```'
echo "$mix"
echo '```'
if [ -f "$tmp/ivr.perf" ]; then
  echo
  echo "### Where gopbx's CPU goes during the first IVR run (perf, ${PROFILE_S} s with all calls up, cumulative)"
  echo
  echo '```'
  perf report -i "$tmp/ivr.perf" --children --sort symbol --stdio 2>/dev/null | grep -E '^ +[0-9]' |
    grep -E 'gopbx/internal|runtime\.(gcBgMarkWorker|mallocgc|findRunnable|netpoll)|syscall\.Syscall|internal/poll|time\.|net\.\(\*UDPConn\)' |
    awk 'NR <= 30 {print $1, $4}' || true
  echo '```'
fi
