#!/usr/bin/env bash
# Throughput / latency / upstream-connection benchmark, run by hand (never in CI):
#   wrk against (a) the upstream directly, (b) rwproxy through a regex rewrite route,
#   (c) nginx (Debian) with `upstream { keepalive }` and the same rewrite -- in one run, with the
#   same number of workers for rwproxy and nginx. The upstream is an nginx `return 200` server.
# Prints req/s and ratios, p50/p99, upstream connections opened per 1,000 requests (keep-alive and
# Connection: close clients) and rwproxy's RSS/PSS idle and under load.
# Usage: tests/bench/proxy_bench.sh [-d SECONDS] [-c CONNECTIONS] [-w WORKERS] [-r ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/../.."
duration=10 conns=32 workers=1 rounds=3
while getopts "d:c:w:r:" o; do
  case $o in d) duration=$OPTARG ;; c) conns=$OPTARG ;; w) workers=$OPTARG ;; r) rounds=$OPTARG ;; *) exit 2 ;; esac
done
deploy/install-deps.sh --bench >/dev/null
[[ -x build/bin/rwproxy ]] || { cmake -S . -B build -G Ninja >/dev/null && cmake --build build --target rwproxy; }
dir=$(mktemp -d /tmp/rwbench.XXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT
free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
up_port=$(free_port); ngx_port=$(free_port); rw_port=$(free_port); rw_admin=$(free_port)

# Upstream: nginx, one worker, logs $connection_requests so new connections can be counted.
mkdir -p "$dir/up" "$dir/ngx"
cat > "$dir/up/nginx.conf" <<CONF
worker_processes 1; daemon off; pid $dir/up/nginx.pid; error_log $dir/up/error.log;
events { worker_connections 4096; }
http {
  log_format cr '\$connection_requests'; access_log $dir/up/access.log cr buffer=64k;
  keepalive_requests 1000000; keepalive_timeout 75s;
  server { listen 127.0.0.1:$up_port; location / { return 200 "hello from upstream\n"; } }
}
CONF
nginx -c "$dir/up/nginx.conf" -p "$dir/up" & pids+=($!)

cat > "$dir/ngx/nginx.conf" <<CONF
worker_processes $workers; daemon off; pid $dir/ngx/nginx.pid; error_log $dir/ngx/error.log;
events { worker_connections 4096; }
http {
  access_log off; keepalive_requests 1000000;
  upstream app { server 127.0.0.1:$up_port; keepalive 64; }
  server {
    listen 127.0.0.1:$ngx_port;
    location /api/ {
      rewrite ^/api/(.*)\$ /\$1 break;
      proxy_pass http://app; proxy_http_version 1.1; proxy_set_header Connection "";
    }
  }
}
CONF
nginx -c "$dir/ngx/nginx.conf" -p "$dir/ngx" & pids+=($!)

cat > "$dir/routes.yaml" <<CONF
clusters:
  - name: app
    endpoints: ["127.0.0.1:$up_port"]
    pool: {max_idle: 64}
routes:
  - name: api
    match: {path_regex: "^/api/(.*)\$"}
    rewrite: {path: "/\$1"}
    cluster: app
CONF
build/bin/rwproxy --config "$dir/routes.yaml" --listen "127.0.0.1:$rw_port" \
  --admin "127.0.0.1:$rw_admin" --control 127.0.0.1:0 --workers "$workers" 2>"$dir/rwproxy.log" & rw_pid=$!
pids+=($rw_pid)
for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$rw_admin/ready" >/dev/null 2>&1 && break; sleep 0.1; done
for p in $up_port $ngx_port; do
  for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$p/api/x" >/dev/null 2>&1 && break; sleep 0.1; done
done

mem() { awk '/^VmRSS/{printf "RSS %.1f MiB", $2/1024}' /proc/$rw_pid/status
        awk '/^Pss:/{printf ", PSS %.1f MiB", $2/1024}' /proc/$rw_pid/smaps_rollup; }
idle_mem=$(mem)
new_conns() { grep -c '^1$' "$dir/up/access.log" || true; }
flush_up() { kill -USR1 "$(cat "$dir/up/nginx.pid")"; sleep 0.5; }  # reopen logs = flush buffer

# run NAME URL [extra wrk args]: prints "req/s p50 p99 requests new_upstream_conns"
run() {
  local name=$1 url=$2; shift 2
  flush_up; local before; before=$(new_conns)
  local out; out=$(wrk -t1 -c"$conns" -d"${duration}s" --latency "$@" "$url")
  flush_up; local after; after=$(new_conns)
  local rps p50 p99 reqs errs
  rps=$(awk '/Requests\/sec/{print $2}' <<<"$out")
  p50=$(awk '$1=="50%"{print $2}' <<<"$out"); p99=$(awk '$1=="99%"{print $2}' <<<"$out")
  reqs=$(awk '/requests in/{print $1}' <<<"$out")
  errs=$(awk '/Non-2xx|Socket errors/{print}' <<<"$out" | tr '\n' ' ')
  echo "$name $rps $p50 $p99 $reqs $((after - before)) ${errs:-}"
}
to_ms() { awk -v v="$1" 'BEGIN{ if (v ~ /ms$/) {sub(/ms/,"",v); print v} else if (v ~ /us$/) {sub(/us/,"",v); print v/1000} else {sub(/s/,"",v); print v*1000} }'; }

echo "# $(date -u +%FT%TZ) $(nproc) cores, wrk -t1 -c$conns -d${duration}s, workers=$workers, rounds=$rounds"
results=()
for r in $(seq 1 "$rounds"); do
  results+=("$(run direct "http://127.0.0.1:$up_port/x")")
  results+=("$(run rwproxy "http://127.0.0.1:$rw_port/api/x")")
  load_mem=$(mem)
  results+=("$(run nginx "http://127.0.0.1:$ngx_port/api/x")")
  results+=("$(run rwproxy_close "http://127.0.0.1:$rw_port/api/x" -H 'Connection: close')")
  results+=("$(run nginx_close "http://127.0.0.1:$ngx_port/api/x" -H 'Connection: close')")
done
printf '%s\n' "${results[@]}" > "$dir/results.txt"

median() { sort -g | awk '{a[NR]=$1} END{print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
col() { awk -v n="$1" -v c="$2" '$1==n{print $c}' "$dir/results.txt"; }
printf '\n%-14s %10s %9s %9s %12s %16s\n' target req/s p50_ms p99_ms requests upstream_cx/1k
for n in direct rwproxy nginx rwproxy_close nginx_close; do
  rps=$(col $n 2 | median)
  p50=$(for v in $(col $n 3); do to_ms "$v"; done | median)
  p99=$(for v in $(col $n 4); do to_ms "$v"; done | median)
  reqs=$(col $n 5 | median); cx=$(col $n 6 | median)
  per1k=$(awk -v c="$cx" -v r="$reqs" 'BEGIN{printf "%.2f", (r>0? c*1000/r : 0)}')
  printf '%-14s %10.0f %9.3f %9.3f %12.0f %16s\n' "$n" "$rps" "$p50" "$p99" "$reqs" "$per1k"
  declare "rps_$n=$rps" "p99_$n=$p99"
done
echo
awk -v r="$rps_rwproxy" -v d="$rps_direct" -v n="$rps_nginx" \
  'BEGIN{printf "rwproxy/direct %.2f  rwproxy/nginx %.2f  (medians of rounds)\n", r/d, r/n}'
awk -v r="$p99_rwproxy" -v n="$p99_nginx" 'BEGIN{printf "p99 rwproxy/nginx %.2f\n", r/n}'
echo "rwproxy memory idle: $idle_mem; under load: $load_mem"
grep -h "Socket errors\|Non-2xx" /dev/null "$dir/results.txt" || true
echo "raw rounds: $dir/results.txt"
