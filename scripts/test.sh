#!/usr/bin/env bash
# test.sh: everything `make test` does. Installs what is missing, starts a
# throwaway PostgreSQL, runs vet, staticcheck, every Go test against SQLite
# and PostgreSQL, and the fuzz targets for a bounded time, then stops the
# database whatever happened.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$HOME/go/bin:$PATH"
scripts/deps.sh
go mod download

pgdir=$(mktemp -d /tmp/gopbx-pg.XXXXXX)
cleanup() { scripts/pgtest.sh stop "$pgdir"; }
trap cleanup EXIT
export GOPBX_TEST_POSTGRES=$(scripts/pgtest.sh start "$pgdir")
export GOPBX_TEST_REQUIRE_POSTGRES=1
echo "test: PostgreSQL at $GOPBX_TEST_POSTGRES"

echo "test: go vet"
go vet ./...
echo "test: staticcheck"
go tool staticcheck ./...

echo "test: go test"
go test -count=1 -timeout 20m -p 2 ./...

echo "test: go test -tags opus (Opus over libopus; nolibopusfile drops the unused libopusfile)"
go test -count=1 -tags opus,nolibopusfile ./internal/media/... ./cmd/gopbx/ -run 'Opus'

echo "test: fuzz (bounded: 15 s a target)"
# Every fuzz target of the repo, each in its own package.
grep -rlE '^func Fuzz[A-Za-z0-9_]+\(' --include='*_test.go' internal cmd bench 2>/dev/null | sort | while read -r file; do
  for target in $(grep -oE '^func Fuzz[A-Za-z0-9_]+' "$file" | awk '{print $2}'); do
    echo "fuzz: $target in $(dirname "$file")"
    go test -run '^$' -fuzz "^${target}\$" -fuzztime 15s "./$(dirname "$file")"
  done
done
echo "test: all passed"
