#!/usr/bin/env bash
# bench/api/run.sh: measures the REST API figures of docs/PERFORMANCE.md in
# one run, on SQLite and on PostgreSQL, and prints them as a markdown table:
#
#   1. 10,000 users created through POST /api/users by 4 concurrent clients
#      (BenchmarkAPICreateUsers), with Main's argon2id and with a cheap hash;
#   2. POST /api/login p50/p99, sequential and 4 clients (BenchmarkAPILogin);
#   3. a filtered, ordered page of 100 out of 100,000 users through
#      GET /api/users (BenchmarkAPIListUsersFilteredPage);
#   4. the resident memory (VmRSS) of a built gopbx serving 100,000 users,
#      idle after a few list requests.
#
# PostgreSQL: GOPBX_TEST_POSTGRES names a server; when it is not set and
# PostgreSQL is installed, a throwaway cluster is started (scripts/pgtest.sh)
# and stopped at the end. GOPBX_BENCH_NO_POSTGRES=1 skips PostgreSQL.
# Knobs (defaults): GOPBX_BENCH_CREATE_USERS (10000), GOPBX_BENCH_CLIENTS (4),
# GOPBX_BENCH_LIST_USERS (100000), GOPBX_BENCH_RSS_USERS (100000),
# GOPBX_BENCH_LOGINS (500), GOPBX_BENCH_PAGES (1000), GOPBX_BENCH_IDLE (15 s),
# GOPBX_BENCH_PARTS ("create login list rss": which measurements to make).
# Everything lives in a temp folder that is removed at the end.
set -euo pipefail
cd "$(dirname "$0")/../.."
export PATH=/usr/local/go/bin:$HOME/go/bin:$PATH

tmp=$(mktemp -d /tmp/gopbx-bench-api.XXXXXX)
pgdir=""
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  if [ -n "$pgdir" ]; then scripts/pgtest.sh stop "$pgdir" || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

if [ -z "${GOPBX_TEST_POSTGRES:-}" ] && [ "${GOPBX_BENCH_NO_POSTGRES:-}" != 1 ] && ls -d /usr/lib/postgresql/*/bin >/dev/null 2>&1; then
  # Not under $tmp: the cluster runs as the postgres user, who cannot enter it.
  pgdir=$(mktemp -u /tmp/gopbx-bench-pg.XXXXXX)
  GOPBX_TEST_POSTGRES=$(scripts/pgtest.sh start "$pgdir")
  export GOPBX_TEST_POSTGRES
fi
[ "${GOPBX_BENCH_NO_POSTGRES:-}" = 1 ] && unset GOPBX_TEST_POSTGRES

out=$tmp/bench.txt
gobench() { # gobench NAME BENCHTIME
  go test ./cmd/gopbx -run '^$' -bench "^$1\$" -benchtime "$2" -timeout 60m | tee -a "$out"
}
echo "== go benchmarks (cmd/gopbx/bench_test.go)"
parts=" ${GOPBX_BENCH_PARTS:-create login list rss} "
[[ $parts == *" create "* ]] && gobench BenchmarkAPICreateUsers 1x
[[ $parts == *" login "* ]] && gobench BenchmarkAPILogin "${GOPBX_BENCH_LOGINS:-500}x"
[[ $parts == *" list "* ]] && gobench BenchmarkAPIListUsersFilteredPage "${GOPBX_BENCH_PAGES:-1000}x"

# --- resident memory of the built server with 100,000 users --------------
touch "$out"
echo "== resident memory (built gopbx, ${GOPBX_BENCH_RSS_USERS:-100000} users)"
go build -ldflags "-X main.Version=$(git describe --always --dirty 2>/dev/null || echo dev)" -o "$tmp/gopbx" ./cmd/gopbx
go build -o "$tmp/loadusers" ./bench/loadusers
freeport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
declare -A rss hwm
measure_rss() { # measure_rss NAME [DSN]
  local name=$1 dsn=${2:-} data port api token tenant
  data=$tmp/rss-$name
  local dbflag=()
  [ -n "$dsn" ] && dbflag=(--db "$dsn")
  local loaded
  loaded=$("$tmp/loadusers" --data "$data" "${dbflag[@]}" --users "${GOPBX_BENCH_RSS_USERS:-100000}" --admin-password 'Admin#12345')
  echo "$name: $loaded"
  tenant=$(echo "$loaded" | sed -n 's/.*tenant \([0-9]*\) .*/\1/p')
  port=$(freeport)
  "$tmp/gopbx" serve --data "$data" "${dbflag[@]}" --api-listen "127.0.0.1:$port" --api-insecure-http \
    --provision-listen "" --sip-udp "" --sip-tcp "" --sip-tls "" --log-level error &
  server_pid=$!
  api=http://127.0.0.1:$port/api
  for _ in $(seq 100); do curl -sf -o /dev/null "$api/openapi.json" && break; sleep 0.2; done
  token=$(curl -sf -X POST "$api/login" -H 'Content-Type: application/json' \
    -d '{"username":"admin","password":"Admin#12345"}' | sed 's/.*"access_token":"\([^"]*\)".*/\1/')
  curl -sf -o /dev/null -X POST "$api/tenants/switch?id=$tenant" -H "Authorization: Bearer $token"
  local q='filter=startswith(display_name%2C%27User%201%27)%20and%20enabled%20eq%20true&orderby=display_name&top=100'
  for skip in 0 100 200 300 400; do
    curl -sf -o /dev/null "$api/users?$q&skip=$skip" -H "Authorization: Bearer $token"
    curl -sf -o /dev/null "$api/users?orderby=extension_number%20desc&top=100&skip=$skip" -H "Authorization: Bearer $token"
  done
  sleep "${GOPBX_BENCH_IDLE:-15}"
  rss[$name]=$(awk '/^VmRSS:/ {printf "%.1f", $2/1024}' "/proc/$server_pid/status")
  hwm[$name]=$(awk '/^VmHWM:/ {printf "%.1f", $2/1024}' "/proc/$server_pid/status")
  echo "$name: VmRSS ${rss[$name]} MiB, VmHWM ${hwm[$name]} MiB"
  kill "$server_pid"
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
}
[[ $parts == *" rss "* ]] && measure_rss sqlite
if [[ $parts == *" rss "* ]] && [ -n "${GOPBX_TEST_POSTGRES:-}" ]; then
  db=gopbx_rss_$$
  psql -q "$GOPBX_TEST_POSTGRES" -c "CREATE DATABASE $db"
  measure_rss postgres "$(echo "$GOPBX_TEST_POSTGRES" | sed -E "s#^(postgres(ql)?://[^/]+)/[^?]*#\1/$db#")"
  psql -q "$GOPBX_TEST_POSTGRES" -c "DROP DATABASE $db WITH (FORCE)"
fi

# --- the table ----------------------------------------------------------------
declare -A m
while read -r key val; do m[$key]=$val; done < <(awk '
  /^Benchmark/ { name = $1; sub(/-[0-9]+$/, "", name)
    for (i = 3; i < NF; i += 2) if ($(i+1) != "ns/op") print name "|" $(i+1), $i }' "$out")
get() { local v=${m[$1]:-}; if [ -n "$v" ]; then printf '%.*f' "$2" "$v"; else printf 'n/a'; fi; }
pair() { printf '%s / %s' "$(get "$1|p50-ms" 1)" "$(get "$1|p99-ms" 1)"; }
n=${GOPBX_BENCH_CREATE_USERS:-10000}
c=${GOPBX_BENCH_CLIENTS:-4}
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)
echo
echo "Machine: $(nproc) vCPU, $cpu, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(go version | cut -d' ' -f3), $(uname -sr); load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| figure | target | SQLite | PostgreSQL |"
echo "|---|---|---|---|"
for h in default cheap; do
  B=BenchmarkAPICreateUsers
  label="argon2id m=19 MiB t=2 (Main's default)"
  [ $h = cheap ] && label="argon2id m=64 KiB t=1 (test-only API server over Main's database)"
  echo "| create $n users, POST /api/users, $c clients, $label: total s | < 60 s | $(get "$B/sqlite/argon2id-$h|total-s" 1) | $(get "$B/postgres/argon2id-$h|total-s" 1) |"
  echo "| same: users/s | ≥ 167 | $(get "$B/sqlite/argon2id-$h|users/s" 0) | $(get "$B/postgres/argon2id-$h|users/s" 0) |"
done
B=BenchmarkAPILogin
echo "| POST /api/login, sequential: p50 / p99 ms | p99 < 100 ms | $(pair $B/sqlite/sequential) | $(pair $B/postgres/sequential) |"
echo "| POST /api/login, 4 clients: p50 / p99 ms | p99 < 100 ms | $(pair $B/sqlite/concurrent4) | $(pair $B/postgres/concurrent4) |"
B=BenchmarkAPIListUsersFilteredPage
echo "| GET /api/users filtered + ordered, top=100 of ${GOPBX_BENCH_LIST_USERS:-100000} in one tenant: p50 / p99 ms | p99 < 20 ms | $(pair $B/sqlite/page) | $(pair $B/postgres/page) |"
echo "| gopbx VmRSS idle, ${GOPBX_BENCH_RSS_USERS:-100000} users loaded: MiB | < 150 MiB | ${rss[sqlite]:-n/a} | ${rss[postgres]:-n/a} |"
echo "| gopbx VmHWM (peak RSS) over that run: MiB | | ${hwm[sqlite]:-n/a} | ${hwm[postgres]:-n/a} |"
