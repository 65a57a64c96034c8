#!/usr/bin/env bash
# deps.sh: install what gopbx's tests need on a Debian machine, idempotently.
# Only packages that are missing are installed; nothing else is touched.
set -euo pipefail
pkgs=(postgresql baresip baresip-core sipsak sipvicious kamailio kamailio-extra-modules kamailio-tls-modules kamailio-sqlite-modules linphone-cli sox espeak-ng python3 iproute2 libopus-dev libopusfile-dev pkg-config)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "deps: installing ${missing[*]}"
  sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# mailpit, the SMTP server the mail tests send to (internal/mailtest), is a Go
# tool, not a module dependency: install it into $(go env GOPATH)/bin, where
# the tests look, unless it is already there or on PATH.
mailpit_version=v1.27.11
if ! command -v go >/dev/null 2>&1; then
  echo "deps: go is not on PATH; skipping mailpit" >&2
else
  gobin="$(go env GOPATH)/bin"
  if ! command -v mailpit >/dev/null 2>&1 && [ ! -x "$gobin/mailpit" ]; then
    echo "deps: installing mailpit $mailpit_version"
    GOBIN="$gobin" go install "github.com/axllent/mailpit@$mailpit_version"
  fi
fi
# Kamailio and PostgreSQL may start system services on install: the tests run
# their own instances on free ports, so stop the packaged ones if they run.
for svc in kamailio postgresql; do
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet "$svc" 2>/dev/null; then
    systemctl stop "$svc" || true
  fi
done
