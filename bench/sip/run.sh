#!/usr/bin/env bash
# bench/sip/run.sh: SIP figures of gopbx side by side with its anchors, in one
# run on this machine, with one load generator (cmd/sipbench, bench/load)
# for both sides. Prints markdown tables (gopbx | anchor | ratio).
#
#   1. REGISTER with digest auth (MD5, qop=auth) of N distinct extensions
#      (10000..10000+N-1, SIP password "pw<ext>"), bindings kept:
#      gopbx (SQLite, bindings in the database) vs two Kamailio 5.6 anchors
#      (bench/sip/kamailio.cfg): the light one derives passwords from the
#      user name and keeps bindings in memory only (pv_www_authenticate,
#      usrloc db_mode 0); the fair one does gopbx's work: credentials read
#      from SQLite per authentication (auth_db, db_sqlite, 10,000 subscriber
#      rows with plain passwords) and bindings written back to it every
#      second (usrloc db_mode 2). Its SQLite file sits on tmpfs (/dev/shm):
#      db_sqlite cannot ask for synchronous=NORMAL as gopbx's store does, so
#      this spares its commits the fsyncs instead (in the anchor's favour).
#   2. Calls per second: INVITE (digest auth) / ACK / BYE, no RTP, through
#      gopbx's B2BUA (media anchored: SDP rewritten, ports allocated) vs
#      Kamailio as a record-routing proxy that challenges INVITEs too
#      (proxy_challenge, qop=auth). Same caller and callee UAs.
#      Then, on the same gopbx, inbound trunk calls: an IP_AUTH trunk at
#      127.0.0.2 made through the REST API, assigned to the tenant, and an
#      inbound rule sending its DID to an extension; sipbench plays the
#      carrier (UDP from 127.0.0.2, no credentials) and places the same calls
#      to the DID. The callee is one UA, registered as one extension, as in
#      the extension calls (10002 here, 10001 there: each also holds the
#      stale binding the REGISTER measurement left, so both fork alike).
#      Kamailio's extension calls remain the anchor of both figures. gopbx's
#      CPU time per call (utime+stime) is given for both, as it varies less
#      than calls/s when the machine is not quiet.
#   3. Relayed media: concurrent G.711 calls, 20 ms packets both ways, all up
#      for a steady window, through gopbx's relay vs rtpengine 10.5
#      (userspace, --table=-1) driven by Kamailio's rtpengine module. Loss,
#      CPU (utime+stime of the relay process over the window) and RSS.
#      gopbx's media runs on a fresh server (one binding) so its RSS delta
#      is the calls' own.
#
# Besides its RSS, gopbx's live heap (after a GC, through its --pprof
# listener) is read before the REGISTER load and 35 s after it, once sipgo's
# transactions of the load have ended: what the bindings themselves keep.
# gopbx runs with --sip-allow 127.0.0.0/8 (no flood guard on the load) and
# the users are written straight into its SQLite file by bench/loadusers.
# Every figure is measured GOPBX_SIP_RUNS times (default 2), sides
# interleaved; the table shows each run's value (spread = both values).
# Knobs (defaults): GOPBX_SIP_USERS (10000), GOPBX_SIP_REG_CONC (200),
# GOPBX_SIP_CALLS (3000), GOPBX_SIP_CALL_CONC (200), GOPBX_SIP_CALL_HOLD
# (100ms), GOPBX_SIP_MEDIA_CALLS ("200 400"), GOPBX_SIP_MEDIA_RATE (100/s),
# GOPBX_SIP_WINDOW (10s), GOPBX_SIP_RUNS (2), GOPBX_SIP_RTP_PORTS (gopbx's
# --rtp-ports, 45000-65000), GOPBX_SIP_PERF (1: perf-profile
# gopbx during one REGISTER and one calls run and print its top functions,
# when perf is installed), GOPBX_SIP_PARTS ("register calls media": the
# measurements to make, e.g. GOPBX_SIP_PARTS=register for the REGISTER
# table alone in well under a minute; "calls" includes the trunk calls),
# GOPBX_SIP_BASE (unset: a gopbx binary built from an earlier tree, run in
# each REGISTER round just after this tree's, for a before/after table that
# the machine's load drifts alike).
# Everything lives in a temp folder that is removed at the end; every
# process started here is stopped by its pid.
set -euo pipefail
cd "$(dirname "$0")/../.."
export PATH=/usr/local/go/bin:$HOME/go/bin:$PATH

USERS=${GOPBX_SIP_USERS:-10000}
REG_CONC=${GOPBX_SIP_REG_CONC:-200}
CALLS=${GOPBX_SIP_CALLS:-3000}
CALL_CONC=${GOPBX_SIP_CALL_CONC:-200}
CALL_HOLD=${GOPBX_SIP_CALL_HOLD:-100ms}
MEDIA_CALLS=${GOPBX_SIP_MEDIA_CALLS:-200 400}
MEDIA_RATE=${GOPBX_SIP_MEDIA_RATE:-100}
WINDOW=${GOPBX_SIP_WINDOW:-10s}
RUNS=${GOPBX_SIP_RUNS:-2}
PERF=${GOPBX_SIP_PERF:-1}
PARTS=" ${GOPBX_SIP_PARTS:-register calls media} "
BASE=${GOPBX_SIP_BASE:-}
part() { [[ $PARTS == *" $1 "* ]]; }
# gopbx hands out RTP/RTCP pairs least recently freed first, each resting at
# least 4 s; a B2BUA call takes two pairs, so its default range (45000-65000)
# sustains 10,000 pairs / 2 / 4 s = 1,250 calls/s.
RTP_PORTS=${GOPBX_SIP_RTP_PORTS:-45000-65000}
DOMAIN=bench.test
FIRST=10000

for tool in kamailio rtpengine python3 curl; do
  command -v "$tool" >/dev/null || { echo "bench/sip: $tool is missing (apt-get install -y kamailio rtpengine-daemon python3 curl)" >&2; exit 1; }
done

tmp=$(mktemp -d /tmp/gopbx-bench-sip.XXXXXX)
shm=$(mktemp -d /dev/shm/gopbx-bench-sip.XXXXXX 2>/dev/null || mktemp -d "$tmp/shm.XXXXXX")
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$tmp" "$shm"
}
trap cleanup EXIT

echo "== build" >&2
go build -o "$tmp/gopbx" ./cmd/gopbx
go build -o "$tmp/sipbench" ./cmd/sipbench
go build -o "$tmp/loadusers" ./bench/loadusers
seeded=$("$tmp/loadusers" --data "$tmp/seeded" --domain "$DOMAIN" --first "$FIRST" --users "$USERS" --password 'pw{ext}' \
  --disable-every 0 --max-extensions $((USERS + 10)))
echo "$seeded" >&2
TENANT=$(echo "$seeded" | sed -n 's/.*tenant \([0-9]*\) .*/\1/p')

freeport() { python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
rss() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
# live_heap: gopbx's live heap in bytes, right after a GC (its --pprof).
live_heap() { curl -sf "http://127.0.0.1:$GOPBX_PPROF/debug/pprof/heap?gc=1&debug=1" | sed -n 's/^# HeapAlloc = //p'; }
socks() { echo "$(find "/proc/$1/fd" -lname 'socket:*' 2>/dev/null | wc -l) sockets, $(find "/proc/$1/fd" -mindepth 1 2>/dev/null | wc -l) fds"; }
cpu_ticks() { awk '{ s = $0; sub(/.*\) /, "", s); split(s, f, " "); print f[12] + f[13] }' "/proc/$1/stat"; }
# tree_ticks PID: cpu_ticks of PID and its children (Kamailio's workers are
# processes forked by its main one).
tree_ticks() { local t=0 p; for p in "$1" $(pgrep -P "$1"); do t=$((t + $(cpu_ticks "$p" 2>/dev/null || echo 0))); done; echo "$t"; }
settle() { # settle PID: wait until PID uses under 3% of a CPU for a second (at most 60 s); prints the seconds waited
  local i t0 t1
  for i in $(seq 60); do
    t0=$(cpu_ticks "$1"); sleep 1; t1=$(cpu_ticks "$1")
    [ $((t1 - t0)) -le 3 ] && break
  done
  echo "$i"
}
json() { python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print(eval(sys.argv[2], {}, d))' "$1" "$2"; }
stop() {
  kill "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
  local keep=() p
  for p in "${pids[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
  pids=("${keep[@]}")
}
waitpid() { for _ in $(seq 300); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done; }
bench() { "$tmp/sipbench" -json -domain "$DOMAIN" -timeout 5m "$@"; }

GOPBX_PID=""
start_gopbx() { # start_gopbx NAME [BINARY]: a fresh copy of the seeded database
  local data=$tmp/gopbx-$1
  rm -rf "$data"; cp -r "$tmp/seeded" "$data"
  GOPBX_SIP=$(freeport)
  local api; api=$(freeport)
  GOPBX_PPROF=$(freeport)
  GOPBX_API=http://127.0.0.1:$api/api
  "${2:-$tmp/gopbx}" serve --data "$data" --api-insecure-http --api-listen "127.0.0.1:$api" --provision-listen "" \
    --sip-udp "127.0.0.1:$GOPBX_SIP" --sip-tcp "" --sip-tls "" --admin-password 'Admin#12345' --log-level warn \
    --sip-allow 127.0.0.0/8 --rtp-ports "$RTP_PORTS" --pprof "127.0.0.1:$GOPBX_PPROF" >"$data.log" 2>&1 &
  GOPBX_PID=$!
  pids+=("$GOPBX_PID")
  for _ in $(seq 100); do curl -sf -o /dev/null "http://127.0.0.1:$api/api/openapi.json" && break; sleep 0.1; done
  sleep 1
}

# The carrier of the inbound trunk calls: sipbench calls from CARRIER_IP, as
# CARRIER_NUM, to DID, which the tenant's inbound rule sends to TRUNK_CALLEE.
CARRIER_IP=127.0.0.2
CARRIER_NUM=14155550123
DID=15550100
TRUNK_CALLEE=$((FIRST + 2))
apicall() { # apicall METHOD PATH TOKEN [JSON]: the response body; fails on an HTTP error
  local args=(-sf -X "$1" "$GOPBX_API$2" -H 'Content-Type: application/json')
  [ -n "$3" ] && args+=(-H "Authorization: Bearer $3")
  [ -n "${4:-}" ] && args+=(-d "$4")
  curl "${args[@]}"
}
setup_trunk() { # setup_trunk: the carrier's trunk, its assignment and the inbound rule, through the REST API
  local login='{"username":"admin","password":"Admin#12345"}' sys adm prov
  sys=$(json "$(apicall POST /login "" "$login")" access_token)
  adm=$(json "$(apicall POST /login "" "$login")" access_token)
  apicall POST "/tenants/switch?id=$TENANT" "$adm" >/dev/null
  prov=$(json "$(apicall POST /providers "$sys" "{\"name\": \"carrier\", \"auth_mode\": \"IP_AUTH\", \"transport\": \"UDP\",
    \"hostname\": \"$CARRIER_IP\", \"port\": 5060, \"outbound_server\": \"$CARRIER_IP\", \"outbound_server_port\": 5060,
    \"concurrency\": 0, \"keep_alive\": false}")" id)
  apicall POST "/providers/$prov/assignees/$TENANT" "$sys" '{"did_numbers": "15550100-15550199"}' >/dev/null
  local fwd="{\"action\": \"FORWARD_TO_NUMBER\", \"number\": \"$TRUNK_CALLEE\"}"
  apicall POST /inbound_rules "$adm" "{\"name\": \"bench\", \"did_numbers\": \"$DID\", \"provider_id\": \"$prov\",
    \"office_hours_forward_rule\": $fwd, \"non_office_hours_forward_rule\": $fwd, \"holiday_forward_rule\": $fwd}" >/dev/null
  # The trunks reload in the background: wait until the trunk is known.
  for _ in $(seq 50); do apicall GET "/providers/$prov/status" "$sys" >/dev/null && break; sleep 0.1; done
}

KAM_PID=""
start_kamailio() { # start_kamailio DEFINES...
  local run=$tmp/kam.$RANDOM
  mkdir -p "$run"
  KAM_SIP=$(freeport)
  local defs=()
  for d in "$@"; do defs+=(-A "$d"); done
  kamailio -f bench/sip/kamailio.cfg -DD -E -m 128 -M 16 -Y "$run" -P "$run/pid" -l "udp:127.0.0.2:$KAM_SIP" "${defs[@]}" >"$run/log" 2>&1 &
  KAM_PID=$!
  pids+=("$KAM_PID")
  for _ in $(seq 50); do grep -q 'Listening on' "$run/log" 2>/dev/null && break; sleep 0.1; done
  sleep 1
}

# kamailio_db: a fresh SQLite database for the fair anchor, from Kamailio's
# own schema, with the same users and passwords as gopbx's; prints its path.
kamailio_db() {
  local db=$shm/kam.$RANDOM.db
  python3 - "$db" "$FIRST" "$USERS" "$DOMAIN" <<'PY'
import sqlite3, sys
path, first, n, domain = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
db = sqlite3.connect(path)
db.execute("PRAGMA journal_mode=WAL")  # as gopbx's store; it persists in the file
for f in ("standard", "auth_db", "usrloc"):
    db.executescript(open(f"/usr/share/kamailio/db_sqlite/{f}-create.sql").read())
db.executemany("INSERT INTO subscriber (username, domain, password) VALUES (?, ?, ?)",
               [(str(e), domain, f"pw{e}") for e in range(first, first + n)])
db.commit()
PY
  echo "$db"
}
db_rows() { python3 -c 'import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute("SELECT count(*) FROM location").fetchone()[0])' "$1"; }

RTPE_PID=""
start_rtpengine() {
  RTPE_NG=$(freeport)
  rtpengine --config-file=none --table=-1 --interface=127.0.0.1 --listen-ng="127.0.0.1:$RTPE_NG" --foreground \
    --log-stderr -L 4 --port-min=30000 --port-max=39999 >"$tmp/rtpengine.log" 2>&1 &
  RTPE_PID=$!
  pids+=("$RTPE_PID")
  sleep 1
}

declare -A R # R[key|run] = value
perf_done=0
profile() { # profile PID SECONDS OUT: perf record in the background
  if [ "$PERF" = 1 ] && command -v perf >/dev/null && [ $perf_done = 0 ]; then
    perf record -F 499 -g -p "$1" -o "$3" -- sleep "$2" >/dev/null 2>&1 &
    echo $!
  fi
}

load_start=$(cut -d' ' -f1-3 /proc/loadavg)
for run in $(seq "$RUNS"); do
  echo "== run $run" >&2
  # --- gopbx: REGISTER, then calls ---------------------------------------
  if part register || part calls; then
  start_gopbx "r$run"
  R[g_rss0|$run]=$(rss "$GOPBX_PID"); R[g_socks0|$run]=$(socks "$GOPBX_PID"); R[g_heap0|$run]=$(live_heap)
  pp=$(profile "$GOPBX_PID" 8 "$tmp/reg.perf")
  t0=$(cpu_ticks "$GOPBX_PID")
  out=$(bench -mode register -target "127.0.0.1:$GOPBX_SIP" -first "$FIRST" -users "$USERS" -password 'pw{ext}' -concurrency "$REG_CONC" -agents 8)
  echo "gopbx register: $out" >&2
  R[g_reg|$run]=$out
  sleep 1
  R[g_rss1|$run]=$(rss "$GOPBX_PID")
  # CPU over the load and 3 s after it: the bindings' write-back included.
  sleep 2
  R[g_reg_cpu|$run]=$(($(cpu_ticks "$GOPBX_PID") - t0))
  [ -n "${pp:-}" ] && waitpid "$pp"
  # What the bindings keep: the live heap once sipgo's transactions of
  # the load have ended (Timer J, 32 s for UDP), in a GC'd heap.
  sleep 32
  R[g_heap1|$run]=$(live_heap)
  echo "gopbx idle after $(settle "$GOPBX_PID") s" >&2
  R[g_socks1|$run]=$(socks "$GOPBX_PID")
  if part calls; then
  pp=$(profile "$GOPBX_PID" 8 "$tmp/calls.perf")
  t0=$(cpu_ticks "$GOPBX_PID")
  out=$(bench -mode calls -target "127.0.0.1:$GOPBX_SIP" -caller "$FIRST:pw$FIRST" -callee "$((FIRST + 1)):pw$((FIRST + 1))" \
    -calls "$CALLS" -concurrency "$CALL_CONC" -hold "$CALL_HOLD" -rtp=false)
  [ -n "${pp:-}" ] && waitpid "$pp"
  echo "gopbx calls: $out" >&2
  R[g_calls|$run]=$out
  sleep 3
  R[g_calls_cpu|$run]=$(($(cpu_ticks "$GOPBX_PID") - t0))
  R[g_socks1|$run]=$(socks "$GOPBX_PID")
  # Inbound trunk calls, once the extension calls' last transactions (the
  # CANCELs to the stale contact) have timed out.
  setup_trunk
  echo "gopbx idle after $(settle "$GOPBX_PID") s" >&2
  pp=$(profile "$GOPBX_PID" 8 "$tmp/trunk.perf")
  t0=$(cpu_ticks "$GOPBX_PID")
  out=$(bench -mode calls -target "127.0.0.1:$GOPBX_SIP" -caller "$CARRIER_NUM" -caller-local "$CARRIER_IP" -did "$DID" \
    -callee "$TRUNK_CALLEE:pw$TRUNK_CALLEE" -calls "$CALLS" -concurrency "$CALL_CONC" -hold "$CALL_HOLD" -rtp=false)
  [ -n "${pp:-}" ] && waitpid "$pp"
  perf_done=1
  echo "gopbx inbound trunk calls: $out" >&2
  R[g_trunk|$run]=$out
  sleep 3
  R[g_trunk_cpu|$run]=$(($(cpu_ticks "$GOPBX_PID") - t0))
  fi
  perf_done=1
  stop "$GOPBX_PID"

  if [ -n "$BASE" ] && part register; then
  # --- gopbx before (GOPBX_SIP_BASE): REGISTER only -------------------------
  start_gopbx "b$run" "$BASE"
  R[b_rss0|$run]=$(rss "$GOPBX_PID")
  t0=$(cpu_ticks "$GOPBX_PID")
  out=$(bench -mode register -target "127.0.0.1:$GOPBX_SIP" -first "$FIRST" -users "$USERS" -password 'pw{ext}' -concurrency "$REG_CONC" -agents 8)
  echo "gopbx before register: $out" >&2
  R[b_reg|$run]=$out
  sleep 1
  R[b_rss1|$run]=$(rss "$GOPBX_PID")
  sleep 2
  R[b_reg_cpu|$run]=$(($(cpu_ticks "$GOPBX_PID") - t0))
  stop "$GOPBX_PID"
  fi

  # --- Kamailio: REGISTER, then calls --------------------------------------
  start_kamailio WITH_AUTH
  t0=$(tree_ticks "$KAM_PID")
  out=$(bench -mode register -target "127.0.0.2:$KAM_SIP" -first "$FIRST" -users "$USERS" -password 'pw{ext}' -concurrency "$REG_CONC" -agents 8)
  echo "kamailio register: $out" >&2
  R[k_reg|$run]=$out
  sleep 3
  R[k_reg_cpu|$run]=$(($(tree_ticks "$KAM_PID") - t0))
  if part calls; then
  out=$(bench -mode calls -target "127.0.0.2:$KAM_SIP" -caller "$FIRST:pw$FIRST" -callee "$((FIRST + 1)):pw$((FIRST + 1))" \
    -calls "$CALLS" -concurrency "$CALL_CONC" -hold "$CALL_HOLD" -rtp=false)
  echo "kamailio calls: $out" >&2
  R[k_calls|$run]=$out
  fi
  stop "$KAM_PID"
  if part register; then
  # The fair anchor: auth_db and usrloc db_mode 2 on SQLite.
  kdb=$(kamailio_db)
  start_kamailio WITH_AUTH WITH_DB "DBURL=\"sqlite://$kdb\""
  t0=$(tree_ticks "$KAM_PID")
  out=$(bench -mode register -target "127.0.0.2:$KAM_SIP" -first "$FIRST" -users "$USERS" -password 'pw{ext}' -concurrency "$REG_CONC" -agents 8)
  echo "kamailio+db register: $out" >&2
  R[kd_reg|$run]=$out
  sleep 3
  R[kd_reg_cpu|$run]=$(($(tree_ticks "$KAM_PID") - t0))
  R[kd_rows|$run]=$(db_rows "$kdb")
  stop "$KAM_PID"
  fi
  fi

  # --- media: gopbx relay vs rtpengine -----------------------------------
  part media || continue
  for n in $MEDIA_CALLS; do
    ramp=$(python3 -c "print($n / $MEDIA_RATE)")
    hold=$(python3 -c "import re; w='$WINDOW'; print(f'{$ramp + float(w.rstrip(\"s\")) + 3:.1f}s')")
    start_gopbx "m$run-$n"
    R[gm_socks0|$n|$run]=$(socks "$GOPBX_PID")
    out=$(bench -mode media -target "127.0.0.1:$GOPBX_SIP" -caller "$FIRST:pw$FIRST" -callee "$((FIRST + 1)):pw$((FIRST + 1))" \
      -calls "$n" -rate "$MEDIA_RATE" -hold "$hold" -window "$WINDOW" -watch "$GOPBX_PID")
    echo "gopbx media $n: $out" >&2
    R[gm|$n|$run]=$out
    sleep 3
    R[gm_socks1|$n|$run]=$(socks "$GOPBX_PID")
    stop "$GOPBX_PID"

    start_rtpengine
    start_kamailio WITH_AUTH WITH_RTPENGINE "RTPENGINE_SOCK=\"udp:127.0.0.1:$RTPE_NG\""
    out=$(bench -mode media -target "127.0.0.2:$KAM_SIP" -caller "$FIRST:pw$FIRST" -callee "$((FIRST + 1)):pw$((FIRST + 1))" \
      -calls "$n" -rate "$MEDIA_RATE" -hold "$hold" -window "$WINDOW" -watch "$RTPE_PID")
    echo "rtpengine media $n: $out" >&2
    R[km|$n|$run]=$out
    stop "$KAM_PID"
    stop "$RTPE_PID"
  done
done

# --- tables -------------------------------------------------------------------
runs=$(seq "$RUNS")
vals() { # vals KEY EXPR FORMAT: the value in each run, "a / b"
  local out="" v
  for r in $runs; do
    v=$(json "${R[$1|$r]}" "$2")
    out+="${out:+ / }$(printf "$3" "$v")"
  done
  echo "$out"
}
ratio() { # ratio KEY_A KEY_B EXPR: mean(A)/mean(B)
  local a=0 b=0
  for r in $runs; do
    a=$(python3 -c "print($a + $(json "${R[$1|$r]}" "$3"))")
    b=$(python3 -c "print($b + $(json "${R[$2|$r]}" "$3"))")
  done
  python3 -c "print(f'{$a / $b:.2f}' if $b else 'n/a')"
}
cpu_call() { # cpu_call KEY: gopbx's CPU ms per answered call in each run (R[KEY_cpu|run] ticks), "a / b"
  local out="" r
  for r in $runs; do out+="${out:+ / }$(python3 -c "print(f'{${R[$1_cpu|$r]} * 10 / $(json "${R[$1|$r]}" Answered):.2f}')")"; done
  echo "$out"
}
cpu_ratio() { # cpu_ratio KEY_A KEY_B: mean CPU per call of A over B's
  local a=0 b=0 r
  for r in $runs; do
    a=$(python3 -c "print($a + ${R[$1_cpu|$r]} / $(json "${R[$1|$r]}" Answered))")
    b=$(python3 -c "print($b + ${R[$2_cpu|$r]} / $(json "${R[$2|$r]}" Answered))")
  done
  python3 -c "print(f'{$a / $b:.2f}' if $b else 'n/a')"
}
reg_cpu() { # reg_cpu KEY: CPU µs per registration in each run (R[KEY_cpu|run] ticks), "a / b"
  local out="" r
  for r in $runs; do out+="${out:+ / }$(python3 -c "print(f'{${R[$1_cpu|$r]} * 10000 / $USERS:.0f}')")"; done
  echo "$out"
}
reg_cpu_ratio() { # reg_cpu_ratio KEY_A KEY_B: mean CPU of A over B's
  local a=0 b=0 r
  for r in $runs; do a=$((a + ${R[$1_cpu|$r]})); b=$((b + ${R[$2_cpu|$r]})); done
  python3 -c "print(f'{$a / $b:.2f}' if $b else 'n/a')"
}
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)
echo
echo "Machine: $(nproc) vCPU, $cpu, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(go version | cut -d' ' -f3), $(uname -sr), kamailio $(kamailio -v | sed -n 's/^version: kamailio \([^ ]*\).*/\1/p'), rtpengine $(dpkg-query -W -f '${Version}' rtpengine-daemon 2>/dev/null); load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "gopbx: $(git describe --always --dirty 2>/dev/null || echo unknown) (working tree as built at the start); load average at the start: $load_start"
echo "Each cell: run 1 / run 2 ...; ratio = gopbx mean / anchor mean."
if part register || part calls; then
echo
echo "### REGISTER, digest auth, $USERS distinct users, $REG_CONC open transactions"
echo
if part register; then
echo "| figure | gopbx | Kamailio 5.6 light (no database, usrloc db_mode 0) | ratio | Kamailio 5.6 fair (auth_db + usrloc db_mode 2, SQLite) | ratio |"
echo "|---|---|---|---|---|---|"
echo "| registrations/s | $(vals g_reg Rate %.0f) | $(vals k_reg Rate %.0f) | $(ratio g_reg k_reg Rate) | $(vals kd_reg Rate %.0f) | $(ratio g_reg kd_reg Rate) |"
echo "| failed | $(vals g_reg Failed %d) | $(vals k_reg Failed %d) | | $(vals kd_reg Failed %d) | |"
echo "| latency p50 ms | $(vals g_reg 'P50/1e6' %.1f) | $(vals k_reg 'P50/1e6' %.1f) | $(ratio g_reg k_reg P50) | $(vals kd_reg 'P50/1e6' %.1f) | $(ratio g_reg kd_reg P50) |"
echo "| latency p99 ms | $(vals g_reg 'P99/1e6' %.1f) | $(vals k_reg 'P99/1e6' %.1f) | $(ratio g_reg k_reg P99) | $(vals kd_reg 'P99/1e6' %.1f) | $(ratio g_reg kd_reg P99) |"
echo "| CPU per registration, µs (utime+stime, load and 3 s after; ratio: gopbx / anchor, lower is better) | $(reg_cpu g_reg) | $(reg_cpu k_reg) | $(reg_cpu_ratio g_reg k_reg) | $(reg_cpu kd_reg) | $(reg_cpu_ratio g_reg kd_reg) |"
rows=""
for r in $runs; do rows+="${rows:+ / }${R[kd_rows|$r]}"; done
echo "| bindings in the database 3 s after the load | | | | $rows | |"
else
echo "| figure | gopbx | Kamailio 5.6 (usrloc db_mode 0) | ratio |"
echo "|---|---|---|---|"
echo "| registrations/s | $(vals g_reg Rate %.0f) | $(vals k_reg Rate %.0f) | $(ratio g_reg k_reg Rate) |"
echo "| failed | $(vals g_reg Failed %d) | $(vals k_reg Failed %d) | |"
echo "| latency p50 ms | $(vals g_reg 'P50/1e6' %.1f) | $(vals k_reg 'P50/1e6' %.1f) | $(ratio g_reg k_reg P50) |"
echo "| latency p99 ms | $(vals g_reg 'P99/1e6' %.1f) | $(vals k_reg 'P99/1e6' %.1f) | $(ratio g_reg k_reg P99) |"
fi
mem=""
for r in $runs; do mem+="${mem:+ / }$(python3 -c "print(f'{(${R[g_rss1|$r]} - ${R[g_rss0|$r]}) * 1024 / $USERS:.0f}')")"; done
echo "| gopbx RSS growth per registration, bytes (target < 4096) | $mem | | |"
mem=""
for r in $runs; do mem+="${mem:+ / }$(python3 -c "print(f'{(${R[g_heap1|$r]} - ${R[g_heap0|$r]}) / $USERS:.0f}')")"; done
echo "| gopbx live heap growth per registration 35 s on (transactions ended), after GC, bytes | $mem | | |"
if [ -n "$BASE" ] && part register; then
echo
echo "### REGISTER, this tree against GOPBX_SIP_BASE, same rounds"
echo
echo "| figure | gopbx before ($(basename "$BASE")) | gopbx | ratio after / before |"
echo "|---|---|---|---|"
echo "| registrations/s | $(vals b_reg Rate %.0f) | $(vals g_reg Rate %.0f) | $(ratio g_reg b_reg Rate) |"
echo "| failed | $(vals b_reg Failed %d) | $(vals g_reg Failed %d) | |"
echo "| latency p50 ms | $(vals b_reg 'P50/1e6' %.1f) | $(vals g_reg 'P50/1e6' %.1f) | $(ratio g_reg b_reg P50) |"
echo "| latency p99 ms | $(vals b_reg 'P99/1e6' %.1f) | $(vals g_reg 'P99/1e6' %.1f) | $(ratio g_reg b_reg P99) |"
echo "| CPU per registration, µs | $(reg_cpu b_reg) | $(reg_cpu g_reg) | $(reg_cpu_ratio g_reg b_reg) |"
mem=""
for r in $runs; do mem+="${mem:+ / }$(python3 -c "print(f'{(${R[b_rss1|$r]} - ${R[b_rss0|$r]}) * 1024 / $USERS:.0f}')")"; done
mem2=""
for r in $runs; do mem2+="${mem2:+ / }$(python3 -c "print(f'{(${R[g_rss1|$r]} - ${R[g_rss0|$r]}) * 1024 / $USERS:.0f}')")"; done
echo "| RSS growth per registration, bytes | $mem | $mem2 | |"
fi
fi
if part calls; then
echo
echo "### Calls: INVITE (digest auth) / ACK / BYE, $CALLS calls, $CALL_CONC at once, hold $CALL_HOLD, no RTP"
echo
echo "| figure | gopbx B2BUA (media anchored) | Kamailio record-routing proxy, INVITE auth | ratio |"
echo "|---|---|---|---|"
echo "| calls/s | $(vals g_calls CPS %.0f) | $(vals k_calls CPS %.0f) | $(ratio g_calls k_calls CPS) |"
echo "| failed | $(vals g_calls Failed %d) | $(vals k_calls Failed %d) | |"
echo "| setup p50 ms | $(vals g_calls 'SetupP50/1e6' %.1f) | $(vals k_calls 'SetupP50/1e6' %.1f) | $(ratio g_calls k_calls SetupP50) |"
echo "| setup p99 ms | $(vals g_calls 'SetupP99/1e6' %.1f) | $(vals k_calls 'SetupP99/1e6' %.1f) | $(ratio g_calls k_calls SetupP99) |"
echo
echo "### Inbound trunk calls: carrier at $CARRIER_IP (IP_AUTH trunk, no digest) → DID → extension, $CALLS calls, $CALL_CONC at once, hold $CALL_HOLD, no RTP"
echo
echo "| figure | gopbx extension calls | gopbx inbound trunk calls | ratio trunk / extension | Kamailio extension calls (anchor) | ratio trunk / Kamailio |"
echo "|---|---|---|---|---|---|"
echo "| calls/s | $(vals g_calls CPS %.0f) | $(vals g_trunk CPS %.0f) | $(ratio g_trunk g_calls CPS) | $(vals k_calls CPS %.0f) | $(ratio g_trunk k_calls CPS) |"
echo "| failed | $(vals g_calls Failed %d) | $(vals g_trunk Failed %d) | | $(vals k_calls Failed %d) | |"
echo "| setup p50 ms | $(vals g_calls 'SetupP50/1e6' %.1f) | $(vals g_trunk 'SetupP50/1e6' %.1f) | $(ratio g_trunk g_calls SetupP50) | $(vals k_calls 'SetupP50/1e6' %.1f) | $(ratio g_trunk k_calls SetupP50) |"
echo "| setup p99 ms | $(vals g_calls 'SetupP99/1e6' %.1f) | $(vals g_trunk 'SetupP99/1e6' %.1f) | $(ratio g_trunk g_calls SetupP99) | $(vals k_calls 'SetupP99/1e6' %.1f) | $(ratio g_trunk k_calls SetupP99) |"
echo "| gopbx CPU per call, ms (utime+stime over the run and 3 s after, / answered) | $(cpu_call g_calls) | $(cpu_call g_trunk) | $(cpu_ratio g_trunk g_calls) | | |"
fi
part media || MEDIA_CALLS=""
for n in $MEDIA_CALLS; do
  echo
  echo "### Relayed media: $n concurrent G.711 calls, 20 ms both ways, steady window $WINDOW"
  echo
  echo "| figure | gopbx relay | rtpengine 10.5 userspace (via Kamailio) | ratio |"
  echo "|---|---|---|---|"
  echo "| calls up at once | $(vals "gm|$n" MaxUp %d) | $(vals "km|$n" MaxUp %d) | |"
  echo "| failed calls | $(vals "gm|$n" Failed %d) | $(vals "km|$n" Failed %d) | |"
  echo "| deaf RTP endpoints (sent, heard nothing) | $(vals "gm|$n" "globals().get('DeafPeers', 0)" %d) | $(vals "km|$n" "globals().get('DeafPeers', 0)" %d) | |"
  echo "| packets sent in window | $(vals "gm|$n" WinSent %d) | $(vals "km|$n" WinSent %d) | |"
  echo "| packets received in window | $(vals "gm|$n" WinReceived %d) | $(vals "km|$n" WinReceived %d) | |"
  echo "| lost in window | $(vals "gm|$n" 'WinSent-WinReceived' %d) | $(vals "km|$n" 'WinSent-WinReceived' %d) | |"
  echo "| loss % in window | $(vals "gm|$n" '100*(1-WinReceived/WinSent) if WinSent else 100' %.3f) | $(vals "km|$n" '100*(1-WinReceived/WinSent) if WinSent else 100' %.3f) | |"
  echo "| loss % whole calls (incl. setup/teardown edges) | $(vals "gm|$n" '100*(1-RTPReceived/RTPSent) if RTPSent else 100' %.3f) | $(vals "km|$n" '100*(1-RTPReceived/RTPSent) if RTPSent else 100' %.3f) | |"
  cpuexpr="100*Procs[0]['CPU']/Window*100/MaxUp"
  echo "| relay CPU per 100 calls, % of one CPU | $(vals "gm|$n" "$cpuexpr" %.1f) | $(vals "km|$n" "$cpuexpr" %.1f) | $(ratio "gm|$n" "km|$n" "$cpuexpr") |"
  echo "| relay RSS with calls up, MiB | $(vals "gm|$n" "Procs[0]['RSSUp']/1024" %.1f) | $(vals "km|$n" "Procs[0]['RSSUp']/1024" %.1f) | |"
  echo "| relay RSS growth per call, KiB (gopbx target < 64) | $(vals "gm|$n" "(Procs[0]['RSSUp']-Procs[0]['RSSBefore'])/MaxUp" %.1f) | $(vals "km|$n" "(Procs[0]['RSSUp']-Procs[0]['RSSBefore'])/MaxUp" %.1f) | |"
done
echo
echo "### Leaks (gopbx sockets and descriptors held: idle before → 3 s after the load)"
echo
for r in $runs; do
  line="run $r: REGISTER$(part calls && echo +calls || true) ${R[g_socks0|$r]:-} → ${R[g_socks1|$r]:-}"
  for n in $MEDIA_CALLS; do line+="; media $n calls ${R[gm_socks0|$n|$r]} → ${R[gm_socks1|$n|$r]}"; done
  echo "- $line"
done
if [ -f "$tmp/reg.perf" ] || [ -f "$tmp/calls.perf" ] || [ -f "$tmp/trunk.perf" ]; then
  echo
  echo "### Where gopbx's CPU goes (perf, run 1, cumulative, gopbx/sqlite frames)"
  for p in reg calls trunk; do
    [ -f "$tmp/$p.perf" ] || continue
    echo
    echo "$p:"
    echo '```'
    perf report -i "$tmp/$p.perf" --children --sort symbol --stdio 2>/dev/null | grep -E '^ +[0-9]' |
      grep -E 'gopbx/internal|modernc.org/sqlite\.|database/sql\.\(\*DB\)\.conn|runtime\.gcBgMarkWorker|sipgo/sip\.\(\*TransactionLayer\)\.handleRequest$' |
      awk 'NR <= 25 {print $1, $4}' || true
    echo '```'
  done
fi
