#!/usr/bin/env bash
# pgtest.sh start|stop DIR: a throwaway PostgreSQL cluster for the tests, on a
# free loopback port, owned by the postgres user, in DIR. "start" prints the
# server URL to use as GOPBX_TEST_POSTGRES.
set -euo pipefail
cmd=${1:?start|stop}; dir=${2:?dir}
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)
[ -n "$bin" ] || { echo "pgtest: PostgreSQL is not installed" >&2; exit 1; }
run() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
case $cmd in
start)
  rm -rf "$dir"; mkdir -p "$dir"
  [ "$(id -u)" = 0 ] && chown postgres "$dir"
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  run "$bin/initdb" -D "$dir/data" -U gopbx --auth=trust -E UTF8 >"$dir/initdb.log" 2>&1
  run "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" \
    start >/dev/null
  echo "postgres://gopbx@127.0.0.1:$port/postgres?sslmode=disable"
  ;;
stop)
  [ -d "$dir/data" ] && run "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
  rm -rf "$dir"
  ;;
esac
