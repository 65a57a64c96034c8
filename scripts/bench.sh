#!/usr/bin/env bash
# bench.sh (make bench): runs every benchmark suite: bench/api/run.sh, then
# each bench/sip/run.sh (or bench/sip/*/run.sh) that exists.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/usr/local/go/bin:$HOME/go/bin:$PATH
bench/api/run.sh
shopt -s nullglob
for s in bench/sip/run.sh bench/sip/*/run.sh; do
  echo "== $s"
  bash "$s"
done
