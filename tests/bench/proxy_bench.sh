#!/usr/bin/env bash
# shellcheck disable=SC2154  # variables set by `declare` (idle_conns.py output, per-target medians)
# Proxy benchmark, run by hand (never in CI). One run, side by side, same pinning, everything on
# 127.0.0.1, in front of one upstream (nginx `return 200`, 1 worker):
#   direct   wrk against the upstream itself (reference; its cpu/RSS columns are the upstream's)
#   rwproxy  build/bin/rwproxy, regex rewrite route ^/api/(.*)$ -> /$1, pool max_idle 64
#   rwlog    the same rwproxy with --access-log FILE (JSON lines): the access log's cost on W1
#   ngxlog   the same nginx with access_log FILE combined buffer=64k: nginx's cost, for comparison
#   nginx    Debian nginx, `upstream { keepalive 64; }`, same rewrite
#   haproxy  Debian HAProxy, `http-reuse always`, `http-request replace-path`, nbthread = workers
# Workloads: W1 = -c CONNECTIONS keep-alive clients; close = the same with `Connection: close`.
# Per target: median over rounds of req/s, p50/p99 (wrk --latency), proxy CPU us per request
# (utime+stime from /proc/PID/stat of all the proxy's processes over the wrk run / requests),
# new upstream connections per 1,000 requests (upstream nginx stub_status `accepts`) and RSS
# (summed over the proxy's processes, sampled mid-run).
# With >= 2 cores the proxies run on core 0, wrk and the upstream on core 1.
#
# --idle-conns N: instead, open N idle keep-alive client connections to each proxy (one small
# request each, then idle; tests/bench/idle_conns.py) and report RSS before/after and KiB per conn.
#
# Usage: tests/bench/proxy_bench.sh [-d SECONDS] [-c CONNECTIONS] [-w WORKERS] [-r ROUNDS]
#                                   [--idle-conns N]
set -euo pipefail
cd "$(dirname "$0")/../.."
duration=10 conns=64 workers=1 rounds=3 idle=0
while (($#)); do
  case $1 in
    -d) duration=$2 ;; -c) conns=$2 ;; -w) workers=$2 ;; -r) rounds=$2 ;; --idle-conns) idle=$2 ;;
    *) sed -n '/^# Usage/,/^set/p' "$0" | sed '$d'; exit 2 ;;
  esac
  shift 2
done
deploy/install-deps.sh --bench >/dev/null
export PATH=$PATH:/usr/sbin
[[ -x build/bin/rwproxy ]] || { cmake -S . -B build -G Ninja >/dev/null && cmake --build build --target rwproxy; }

# Every server and client may need one fd per idle connection: use the whole hard limit.
nofile=$(ulimit -Hn); [[ $nofile == unlimited ]] && nofile=1048576
ulimit -n "$nofile"
((idle + 200 <= nofile)) || { echo "--idle-conns $idle needs ulimit -n > $((idle + 200)) (hard limit $nofile)" >&2; exit 2; }
maxconn=$((idle + 1000 > 4096 ? idle + 1000 : 4096))   # nginx worker_connections, haproxy maxconn

if (($(nproc) >= 2)); then pin_proxy=(taskset -c 0) pin_load=(taskset -c 1) pinning="proxies core 0, wrk+upstream core 1"
else pin_proxy=() pin_load=() pinning="none (1 core)"; fi
hz=$(getconf CLK_TCK)

dir=$(mktemp -d /tmp/rwbench.XXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT
free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
up_port=$(free_port) stat_port=$(free_port) ngx_port=$(free_port) ha_port=$(free_port)
mkdir -p "$dir/up" "$dir/ngx"

# --- servers ------------------------------------------------------------------------------------
# Upstream: nginx, one worker, plus a stub_status listener to count accepted connections.
cat > "$dir/up/nginx.conf" <<CONF
worker_processes 1; daemon off; pid $dir/up/nginx.pid; error_log $dir/up/error.log;
worker_rlimit_nofile $nofile;
events { worker_connections $maxconn; }
http {
  access_log off; keepalive_requests 1000000; keepalive_timeout 75s;
  server { listen 127.0.0.1:$up_port; location / { return 200 "hello from upstream\n"; } }
  server { listen 127.0.0.1:$stat_port; location / { stub_status; } }
}
CONF
"${pin_load[@]}" nginx -c "$dir/up/nginx.conf" -p "$dir/up" & up_pid=$!; pids+=("$up_pid")

cat > "$dir/ngx/nginx.conf" <<CONF
worker_processes $workers; daemon off; pid $dir/ngx/nginx.pid; error_log $dir/ngx/error.log;
worker_rlimit_nofile $nofile;
events { worker_connections $maxconn; }
http {
  access_log off; keepalive_requests 1000000; keepalive_timeout 75s;
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
"${pin_proxy[@]}" nginx -c "$dir/ngx/nginx.conf" -p "$dir/ngx" & ngx_pid=$!; pids+=("$ngx_pid")
# ngxlog: the same nginx with its access log on, to a file (buffered, as nginx users configure it;
# its default combined format): what an access log costs nginx, next to rwlog.
ngxlog_port=$(free_port); mkdir -p "$dir/ngxlog"
sed -e "s|listen 127.0.0.1:$ngx_port;|listen 127.0.0.1:$ngxlog_port;|" -e "s|$dir/ngx/|$dir/ngxlog/|g" \
    -e "s|access_log off;|access_log $dir/ngxlog/access.log combined buffer=64k flush=1s;|" \
    "$dir/ngx/nginx.conf" > "$dir/ngxlog/nginx.conf"
"${pin_proxy[@]}" nginx -c "$dir/ngxlog/nginx.conf" -p "$dir/ngxlog" & ngxlog_pid=$!; pids+=("$ngxlog_pid")

# HAProxy: -db keeps it in the foreground (one process, nbthread threads). `no strict-limits` lets
# it start when 2*maxconn exceeds the fd hard limit (only idle client connections are needed then).
cat > "$dir/haproxy.cfg" <<CONF
global
  nbthread $workers
  maxconn $maxconn
  ulimit-n $nofile
  no strict-limits
defaults
  mode http
  timeout connect 5s
  timeout client 75s
  timeout server 75s
  timeout http-keep-alive 75s
frontend fe
  bind 127.0.0.1:$ha_port
  http-request replace-path ^/api/(.*)\$ /\1 if { path_beg /api/ }
  default_backend app
backend app
  http-reuse always
  server up1 127.0.0.1:$up_port
CONF
"${pin_proxy[@]}" haproxy -db -f "$dir/haproxy.cfg" 2>"$dir/haproxy.log" & ha_pid=$!; pids+=("$ha_pid")

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
"${pin_proxy[@]}" build/bin/rwproxy --config "$dir/routes.yaml" --listen 127.0.0.1:0 \
  --admin 127.0.0.1:0 --control 127.0.0.1:0 --workers "$workers" --drain-timeout 1s \
  --ports-file "$dir/rw.ports" 2>"$dir/rwproxy.log" & rw_pid=$!; pids+=("$rw_pid")
for _ in $(seq 1 100); do grep -qs '^admin ' "$dir/rw.ports" && break; sleep 0.1; done
rw_port=$(awk '$1=="proxy"{sub(/.*:/,"",$2); print $2}' "$dir/rw.ports")
# rwlog: the same rwproxy with the access log on, to a file (JSON lines): its cost on W1.
"${pin_proxy[@]}" build/bin/rwproxy --config "$dir/routes.yaml" --listen 127.0.0.1:0 \
  --admin 127.0.0.1:0 --control 127.0.0.1:0 --workers "$workers" --drain-timeout 1s \
  --access-log "$dir/access.log" --ports-file "$dir/rwlog.ports" 2>"$dir/rwlog.log" & rwlog_pid=$!
pids+=("$rwlog_pid")
for _ in $(seq 1 100); do grep -qs '^admin ' "$dir/rwlog.ports" && break; sleep 0.1; done
rwlog_port=$(awk '$1=="proxy"{sub(/.*:/,"",$2); print $2}' "$dir/rwlog.ports")
rwlog_admin=$(awk '$1=="admin"{print $2}' "$dir/rwlog.ports")

# wait_ok URL: up to 10 s for a 200
wait_ok() { for _ in $(seq 1 100); do curl -fs -o /dev/null "$1" && return 0; sleep 0.1; done
            echo "not answering: $1 (logs in $dir)" >&2; exit 1; }
wait_ok "http://127.0.0.1:$stat_port/"
for p in $up_port $ngx_port $ngxlog_port $ha_port $rw_port $rwlog_port; do wait_ok "http://127.0.0.1:$p/api/x"; done

# --- measurement helpers ------------------------------------------------------------------------
declare -A port=([direct]=$up_port [rwproxy]=$rw_port [rwlog]=$rwlog_port [nginx]=$ngx_port [ngxlog]=$ngxlog_port [haproxy]=$ha_port)
declare -A pid=([direct]=$up_pid [rwproxy]=$rw_pid [rwlog]=$rwlog_pid [nginx]=$ngx_pid [ngxlog]=$ngxlog_pid [haproxy]=$ha_pid)
# procs PID: the PID and its children (nginx: master + workers; rwproxy/haproxy: one process)
# shellcheck disable=SC2046  # one PID per word
procs() { echo "$1" $(pgrep -P "$1" || true); }
# cpu_ticks PID: utime+stime (/proc/PID/stat fields 14+15; after "pid (comm) " they are $12,$13)
cpu_ticks() { local p t=0; for p in $(procs "$1"); do
                t=$((t + $(awk '{sub(/^.*\) /, ""); print $12 + $13}' "/proc/$p/stat"))); done; echo $t; }
rss_kib() { local p; for p in $(procs "$1"); do awk '/^VmRSS/{print $2}' "/proc/$p/status"; done |
            awk '{s += $1} END {print s}'; }
up_accepts() { curl -fs "http://127.0.0.1:$stat_port/" | awk 'NR==3{print $1}'; }

# run TARGET WORKLOAD [extra wrk args]:
#   prints "TARGET_WORKLOAD req/s p50 p99 requests new_upstream_conns cpu_us_per_req rss_kib [errors]"
run() {
  local target=$1 wl=$2; shift 2
  local a0 t0 a1 t1 rss out
  a0=$(up_accepts); t0=$(cpu_ticks "${pid[$target]}")
  "${pin_load[@]}" wrk -t1 -c"$conns" -d"${duration}s" --latency "$@" \
    "http://127.0.0.1:${port[$target]}/api/x" > "$dir/wrk.out" & local w=$!
  sleep "$(awk -v d="$duration" 'BEGIN{print d/2}')"; rss=$(rss_kib "${pid[$target]}")
  wait $w
  t1=$(cpu_ticks "${pid[$target]}"); a1=$(up_accepts)
  out=$(<"$dir/wrk.out")
  local rps p50 p99 reqs errs cpu
  rps=$(awk '/Requests\/sec/{print $2}' <<<"$out")
  p50=$(awk '$1=="50%"{print $2}' <<<"$out"); p99=$(awk '$1=="99%"{print $2}' <<<"$out")
  reqs=$(awk '/requests in/{print $1}' <<<"$out")
  errs=$(awk '/Non-2xx|Socket errors/' <<<"$out" | tr '\n' ' ')
  cpu=$(awk -v t=$((t1 - t0)) -v hz="$hz" -v r="$reqs" 'BEGIN{printf "%.2f", (r > 0 ? t * 1e6 / hz / r : 0)}')
  # a1 - a0 includes the connection of the second stub_status read itself
  echo "${target}_$wl $rps $p50 $p99 $reqs $((a1 - a0 - 1)) $cpu $rss ${errs:-}"
}
to_ms() { awk -v v="$1" 'BEGIN{ if (v ~ /ms$/) {sub(/ms/,"",v); print v} else if (v ~ /us$/) {sub(/us/,"",v); print v/1000} else {sub(/s/,"",v); print v*1000} }'; }
median() { sort -g | awk '{a[NR]=$1} END{print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
col() { awk -v n="$1" -v c="$2" '$1==n{print $c}' "$dir/results.txt"; }

echo "# $(date -u +%FT%TZ) $(nproc) cores, pinning: $pinning, workers=$workers, CLK_TCK=$hz"
echo "# rwproxy $(build/bin/rwproxy --version 2>&1 | head -1), $(nginx -v 2>&1), $(haproxy -v | head -1 | cut -d' ' -f1-3)"
idle_mib=$(for t in rwproxy nginx haproxy; do printf '%s %.1f MiB  ' $t "$(awk -v k="$(rss_kib "${pid[$t]}")" 'BEGIN{print k/1024}')"; done)

# --- mode 2: idle keep-alive connections ----------------------------------------------------------
if ((idle > 0)); then
  echo "# --idle-conns $idle: one request per connection, then idle (tests/bench/idle_conns.py)"
  printf '\n%-8s %7s %7s %7s %11s %11s %10s %7s\n' proxy ok failed alive before_MiB after_MiB KiB/conn open_s
  for t in rwproxy nginx haproxy; do
    line=$("${pin_load[@]}" python3 tests/bench/idle_conns.py --port "${port[$t]}" --count "$idle" \
             --pids "$(procs "${pid[$t]}")" --timeout 60)
    # shellcheck disable=SC2086  # line is "ok=.. failed=.. alive=.." from idle_conns.py
    declare $line
    printf '%-8s %7s %7s %7s %11.1f %11.1f %10s %7s\n' $t "$ok" "$failed" "$alive" \
      "$(awk -v k="$rss_before_kib" 'BEGIN{print k/1024}')" "$(awk -v k="$rss_after_kib" 'BEGIN{print k/1024}')" \
      "$kib_per_conn" "$open_s"
    sleep 1
  done
  exit 0
fi

# --- mode 1: throughput / latency / CPU ----------------------------------------------------------
echo "# wrk -t1 -c$conns -d${duration}s --latency, rounds=$rounds; W1 = keep-alive, close = 'Connection: close'"
results=()
for _ in $(seq 1 "$rounds"); do
  for t in direct rwproxy rwlog nginx ngxlog haproxy; do results+=("$(run $t W1)"); done
  for t in rwproxy nginx haproxy; do results+=("$(run $t close -H 'Connection: close')"); done
done
printf '%s\n' "${results[@]}" > "$dir/results.txt"

printf '\n%-16s %9s %8s %8s %10s %11s %14s %8s\n' target req/s p50_ms p99_ms requests cpu_us/req upstream_cx/1k RSS_MiB
for n in direct_W1 {rwproxy,rwlog,nginx,ngxlog,haproxy}_W1 {rwproxy,nginx,haproxy}_close; do
  rps=$(col "$n" 2 | median)
  p50=$(for v in $(col "$n" 3); do to_ms "$v"; done | median)
  p99=$(for v in $(col "$n" 4); do to_ms "$v"; done | median)
  reqs=$(col "$n" 5 | median) cx=$(col "$n" 6 | median) cpu=$(col "$n" 7 | median) rss=$(col "$n" 8 | median)
  per1k=$(awk -v c="$cx" -v r="$reqs" 'BEGIN{printf "%.2f", (r > 0 ? c * 1000 / r : 0)}')
  printf '%-16s %9.0f %8.3f %8.3f %10.0f %11.2f %14s %8.1f\n' "$n" "$rps" "$p50" "$p99" "$reqs" "$cpu" \
    "$per1k" "$(awk -v k="$rss" 'BEGIN{print k/1024}')"
  declare "rps_$n=$rps" "p99_$n=$p99" "cpu_$n=$cpu"
done
echo "(direct row: cpu_us/req and RSS are the upstream nginx's; proxies: summed over all their processes)"

# --- ratios ---------------------------------------------------------------------------------------
printf '\n%-8s %22s %22s %18s %18s\n' workload 'cpu/req rw/nginx' 'cpu/req rw/haproxy' 'req/s rw/nginx' 'req/s rw/haproxy'
for wl in W1 close; do
  rn=rps_rwproxy_$wl rg=rps_nginx_$wl rh=rps_haproxy_$wl cn=cpu_rwproxy_$wl cg=cpu_nginx_$wl ch=cpu_haproxy_$wl
  awk -v wl=$wl -v c="${!cn}" -v cg="${!cg}" -v ch="${!ch}" -v r="${!rn}" -v rg="${!rg}" -v rh="${!rh}" \
    'function q(a, b) { return (b > 0 ? sprintf("%.2f", a / b) : "n/a") }
     BEGIN { printf "%-8s %22s %22s %18s %18s\n", wl, q(c, cg), q(c, ch), q(r, rg), q(r, rh) }'
done
awk -v r="$rps_rwproxy_W1" -v d="$rps_direct_W1" 'BEGIN{printf "W1 req/s rwproxy/direct %.2f\n", r / d}'
awk -v on="$rps_rwlog_W1" -v off="$rps_rwproxy_W1" -v con="$cpu_rwlog_W1" -v coff="$cpu_rwproxy_W1" \
  'BEGIN{printf "W1 access log to a file: rwproxy req/s %.1f%% of without (target >= 90%%), cpu/req %+.1f%%\n", 100 * on / off, 100 * (con - coff) / coff}'
awk -v on="$rps_ngxlog_W1" -v off="$rps_nginx_W1" -v con="$cpu_ngxlog_W1" -v coff="$cpu_nginx_W1" \
  'BEGIN{printf "W1 access log to a file: nginx   req/s %.1f%% of without, cpu/req %+.1f%%\n", 100 * on / off, 100 * (con - coff) / coff}'
echo "access log: $(wc -l < "$dir/access.log") lines written, $(curl -s "http://$rwlog_admin/stats" | grep -o 'access_log_dropped: [0-9]*' || echo 'access_log_dropped: 0')"
echo "RSS idle (before any load): $idle_mib"
grep -h "Socket errors\|Non-2xx" "$dir/results.txt" || echo "wrk errors: none"
echo "raw rounds: $dir/results.txt (target req/s p50 p99 requests new_upstream_cx cpu_us/req rss_kib)"
