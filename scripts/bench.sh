#!/usr/bin/env bash
# bench.sh (make bench): runs every benchmark suite: bench/api/run.sh, then
# each bench/sip/run.sh (or bench/sip/*/run.sh) that exists.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/usr/local/go/bin:$HOME/go/bin:$PATH
scripts/deps.sh
# The media anchor is needed by the benchmarks only, not by the tests.
if ! dpkg-query -W -f='${Status}' rtpengine-daemon 2>/dev/null | grep -q "install ok installed"; then
  sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends rtpengine-daemon >/dev/null
fi
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet rtpengine-daemon 2>/dev/null; then
  systemctl stop rtpengine-daemon || true
fi
bench/api/run.sh
shopt -s nullglob
for s in bench/sip/run.sh bench/sip/*/run.sh; do
  echo "== $s"
  bash "$s"
done
