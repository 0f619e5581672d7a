#!/usr/bin/env bash
# Builds the HTTP parser fuzz target with Debian's clang and libFuzzer (installing them if
# missing) and runs it for a bounded time on a copy of the seed corpus.
# Usage: tests/fuzz/run.sh [SECONDS]   (default 60; CI runs it after the tests)
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds="${1:-60}"
need=()
command -v clang++-14 >/dev/null || need+=(clang-14)
dpkg-query -W -f='${Status}' libclang-rt-14-dev 2>/dev/null | grep -q "install ok installed" ||
  need+=(libclang-rt-14-dev)
if ((${#need[@]})); then
  sudo_cmd=""; [[ $(id -u) -ne 0 ]] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${need[@]}"
fi
out=build/fuzz
mkdir -p "$out/corpus"
cp tests/fuzz/corpus/* "$out/corpus/"
clang++-14 -std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
  -I. tests/fuzz/http_fuzz.cc server/http/codec.cc server/http/framing.cc \
  server/http/path_normalize.cc server/http/wire.cc server/http/body_framing.cc \
  -o "$out/http_fuzz"
"$out/http_fuzz" -max_total_time="$seconds" -max_len=4096 -timeout=5 -print_final_stats=1 \
  "$out/corpus"
