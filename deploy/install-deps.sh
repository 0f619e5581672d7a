#!/usr/bin/env bash
# Installs what building and testing rwproxy needs on Debian 12, skipping what is already there.
# Usage: deploy/install-deps.sh [--bench] [--no-browser]
#   --bench       adds wrk, nginx and haproxy for tests/bench
#   --no-browser  leaves out chromium (headless, for the admin dashboard's browser test,
#                 tests/integration/dashboard_test.cc), e.g. when only running the demo
# libssl-dev builds TLS (server/tls/); the openssl command makes the test certificates at test time.
# apache2 is a test package: tests/integration/apache_import_test.cc runs a real Apache httpd (on
# its own config and a free loopback port) to compare `rwctl import apache` with it; the test
# skips without /usr/sbin/apache2. Debian's postinst of apache2 (and of nginx and haproxy, with
# --bench) starts the service on port 80: a temporary /usr/sbin/policy-rc.d that exits 101
# ("action forbidden") stops that during the install, so no server is left running; it is
# removed afterwards, and only created if none existed (an existing one is the machine's own
# policy and stays untouched).
set -euo pipefail
packages=(build-essential cmake ninja-build pkg-config libboost1.81-dev libgrpc++-dev
          protobuf-compiler-grpc libprotobuf-dev protobuf-compiler libabsl-dev libre2-dev
          libyaml-cpp-dev libcli11-dev libgtest-dev libgmock-dev libssl-dev openssl curl apache2)
browser=1
for arg in "$@"; do
  case "$arg" in
    --bench) packages+=(wrk nginx-light haproxy) ;;
    --no-browser) browser=0 ;;
    *) echo "usage: $0 [--bench] [--no-browser]" >&2; exit 2 ;;
  esac
done
if ((browser)); then packages+=(chromium); fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  sudo_cmd=""
  [[ $(id -u) -ne 0 ]] && sudo_cmd="sudo"
  policy=/usr/sbin/policy-rc.d
  if [[ ! -e $policy ]]; then
    trap '$sudo_cmd rm -f "$policy"' EXIT
    printf '#!/bin/sh\n# deploy/install-deps.sh: no service starts while it installs\nexit 101\n' |
      $sudo_cmd tee "$policy" >/dev/null
    $sudo_cmd chmod 755 "$policy"
  fi
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
