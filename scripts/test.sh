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

echo "test: fuzz (bounded)"
go test -run '^$' -fuzz '^FuzzParse$' -fuzztime 15s ./internal/query
for target in $(grep -rhoE '^func (Fuzz[A-Za-z0-9_]+)' --include='*_test.go' internal/signaling internal/media 2>/dev/null | awk '{print $2}' | sed 's/(.*//' | sort -u); do
  pkg=$(grep -rlE "^func $target\(" --include='*_test.go' internal | head -n1 | xargs dirname)
  go test -run '^$' -fuzz "^${target}\$" -fuzztime 15s "./$pkg"
done
echo "test: all passed"
