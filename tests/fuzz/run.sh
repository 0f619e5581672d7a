#!/usr/bin/env bash
# Builds the fuzz targets with Debian's clang and libFuzzer (installing them if missing) and runs
# each for a bounded time on a copy of its seed corpus:
#   http     the HTTP parsers and framing policy (corpus/)
#   config   YAML -> proto -> config::Check -> the violations the control API sends (corpus-config/)
#   explain  Explain's input limits and routing on a compiled snapshot (corpus-explain/)
#   apache   `rwctl import apache`: httpd config text -> routes that must pass config::Check
#            (corpus-apache/)
# Usage: tests/fuzz/run.sh [SECONDS] [TARGET...]   (default 60 seconds each, every target; CI runs
# it after the tests). A crash leaves crash-* in build/fuzz/<target>/: add it to the corpus.
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds="${1:-60}"
shift || true
targets=("$@")
((${#targets[@]})) || targets=(http config explain apache)
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
mkdir -p "$out/gen"
flags=(-std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -I.)

# The protobuf messages the config and explain targets need (no gRPC: they call no RPC).
gen() {
  [[ -f "$out/gen/proto/control.pb.cc" && "$out/gen/proto/control.pb.cc" -nt proto/control.proto &&
     "$out/gen/proto/config.pb.cc" -nt proto/config.proto ]] ||
    protoc --proto_path=. --cpp_out="$out/gen" proto/config.proto proto/control.proto
}
config_sources=(config/check.cc config/translate.cc config/translate_resilience.cc
                config/translate_headers.cc config/translate_match.cc config/translate_transport.cc
                config/config_yaml.cc config/config_yaml_emit.cc config/yaml_load.cc
                config/compiled_route.cc
                config/template.cc "$out/gen/proto/config.pb.cc" "$out/gen/proto/control.pb.cc")
# shellcheck disable=SC2046
libs() { pkg-config --libs protobuf yaml-cpp re2 absl_status absl_statusor absl_strings \
           absl_str_format absl_time absl_flat_hash_map absl_flat_hash_set absl_cord; }

build() {
  local target="$1"
  case "$target" in
    http)
      clang++-14 "${flags[@]}" tests/fuzz/http_fuzz.cc server/http/codec.cc server/http/framing.cc \
        server/http/path_normalize.cc server/http/wire.cc server/http/body_framing.cc \
        -o "$out/http_fuzz" ;;
    config)
      gen
      clang++-14 "${flags[@]}" -I"$out/gen" tests/fuzz/config_fuzz.cc control/violations.cc \
        "${config_sources[@]}" $(libs) -o "$out/config_fuzz" ;;
    explain)
      gen
      clang++-14 "${flags[@]}" -I"$out/gen" -DBOOST_ASIO_NO_DEPRECATED tests/fuzz/explain_fuzz.cc \
        control/explain.cc control/config_build.cc server/config/snapshot.cc \
        server/router/*.cc server/http/path_normalize.cc server/http/codec.cc \
        server/upstream/resolver.cc server/tls/client_tls.cc server/tls/tls_defaults.cc \
        server/log/log.cc "${config_sources[@]}" \
        $(libs) -lssl -lcrypto -lpthread -o "$out/explain_fuzz" ;;
    apache)
      gen
      clang++-14 "${flags[@]}" -I"$out/gen" tests/fuzz/apache_import_fuzz.cc cli/import/*.cc \
        "${config_sources[@]}" $(libs) -o "$out/apache_fuzz" ;;
    *) echo "unknown fuzz target '$target' (http, config, explain, apache)" >&2; exit 2 ;;
  esac
}

for target in "${targets[@]}"; do
  corpus=tests/fuzz/corpus; [[ $target == http ]] || corpus=tests/fuzz/corpus-$target
  mkdir -p "$out/$target/corpus"
  cp "$corpus"/* "$out/$target/corpus/"
  echo "== $target: building"
  build "$target"
  echo "== $target: fuzzing for ${seconds}s"
  (cd "$out/$target" && "../${target}_fuzz" -max_total_time="$seconds" -max_len=4096 -timeout=5 \
     -rss_limit_mb=2048 -print_final_stats=1 corpus)
done
