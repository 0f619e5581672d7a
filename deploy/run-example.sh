#!/usr/bin/env bash
# The main job: installs missing packages, builds, then runs rwproxy with deploy/examples/routes.yaml
# in front of a real upstream (rwupstream on 127.0.0.1:8081), shows a rewritten request, a
# redirect, a fixed reply and the pool counters, and keeps serving until Ctrl-C.
# Usage: deploy/run-example.sh [--demo-only]   (--demo-only: stop after the demo)
set -euo pipefail
cd "$(dirname "$0")/.."
deploy/install-deps.sh --no-browser
cmake -S . -B build -G Ninja >/dev/null
cmake --build build -j"$(nproc)" --target rwproxy rwupstream rwctl
run=$(mktemp -d)
build/bin/rwupstream --listen 127.0.0.1:8081 --name app --ports-file "$run/upstream.ports" \
  2>"$run/upstream.log" &
upstream_pid=$!
build/bin/rwproxy --config deploy/examples/routes.yaml --listen 127.0.0.1:15001 \
  --admin 127.0.0.1:15000 --ports-file "$run/proxy.ports" 2>"$run/proxy.log" &
proxy_pid=$!
cleanup() { kill "$proxy_pid" "$upstream_pid" 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM
for _ in $(seq 1 100); do  # wait up to 10 s for /ready
  curl -fs http://127.0.0.1:15000/ready >/dev/null 2>&1 && break
  kill -0 "$proxy_pid" 2>/dev/null || { cat "$run/proxy.log"; exit 1; }
  sleep 0.1
done
set -x
curl -s 'http://127.0.0.1:15001/api/users/7?active=1'          # rewritten to /users/7?active=1
curl -s -o /dev/null -w '%{http_code} %{redirect_url}\n' http://127.0.0.1:15001/docs/intro
curl -s -w '%{http_code}\n' http://127.0.0.1:15001/admin/x
{ set +x; } 2>/dev/null
for i in $(seq 1 20); do curl -s -o /dev/null http://127.0.0.1:15001/api/n/$i; done  # 20 client connections
set -x
curl -s http://127.0.0.1:15000/stats | grep -E 'cluster.app.(rq_total|upstream_cx_total|upstream_rq_reused):'
curl -s 'http://127.0.0.1:15000/clusters?format=text'   # endpoint health (active checks of /healthz)
{ set +x; } 2>/dev/null
echo "23 client connections; upstream connections opened: upstream_cx_total (one per worker at most)."
[[ "${1:-}" == "--demo-only" ]] && exit 0
echo "rwproxy serves http://127.0.0.1:15001 (admin http://127.0.0.1:15000); Ctrl-C stops it."
wait "$proxy_pid"
