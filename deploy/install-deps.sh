#!/usr/bin/env bash
# Installs what building and testing rwproxy needs on Debian 12, skipping what is already there.
# Usage: deploy/install-deps.sh [--bench] [--no-browser]
#   --bench       adds wrk, nginx and haproxy for tests/bench
#   --no-browser  leaves out chromium (headless, for the admin dashboard's browser test,
#                 tests/integration/dashboard_test.cc), e.g. when only running the demo
set -euo pipefail
packages=(build-essential cmake ninja-build pkg-config libboost1.81-dev libgrpc++-dev
          protobuf-compiler-grpc libprotobuf-dev protobuf-compiler libabsl-dev libre2-dev
          libyaml-cpp-dev libcli11-dev libgtest-dev libgmock-dev curl)
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
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
