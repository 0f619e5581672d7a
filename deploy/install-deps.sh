#!/usr/bin/env bash
# Installs what building and testing rwproxy needs on Debian 12, skipping what is already there.
# Usage: deploy/install-deps.sh [--bench]   (--bench adds wrk and nginx for tests/bench)
set -euo pipefail
packages=(build-essential cmake ninja-build pkg-config libboost1.81-dev libgrpc++-dev
          protobuf-compiler-grpc libprotobuf-dev protobuf-compiler libabsl-dev libre2-dev
          libyaml-cpp-dev libcli11-dev libgtest-dev libgmock-dev curl)
if [[ "${1:-}" == "--bench" ]]; then packages+=(wrk nginx-light haproxy); fi
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
