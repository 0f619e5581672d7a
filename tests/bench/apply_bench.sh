#!/usr/bin/env bash
# Config-apply benchmark, run by hand (never in CI). Everything on 127.0.0.1, one run, side by side:
#  (a) apply latency for configs of 10, 1,000 and 10,000 routes (path_prefix + path_regex routes
#      with rewrites), alternating two variants so that every apply changes the config, rwproxy
#      with --state-dir: server-side time (from the proxy's "applied version N ... in X ms" log
#      line: validate + compile, persist, publish to every worker) and end-to-end `rwctl apply`
#      wall time (process start, YAML parse, gRPC, server, exit): p50 / p99 / max in ms;
#  (d) memory: RSS of rwproxy and the state dir's size over 100 applies of alternating
#      10,000-route configs (-m N to change the count);
#  (b) wrk through rwproxy (regex rewrite route, --workers 1) steady vs while a loop re-applies
#      alternating configs every 100 ms; (c) the same for nginx (Debian, worker_processes 1,
#      upstream keepalive 64, same rewrite) steady vs `nginx -s reload` every 100 ms.
#  For (b)/(c): req/s, ratio, wrk errors and new upstream connections, counted by rwproxy
#  (upstream_cx_total) and by the upstream itself (rwupstream /__stats connections=, minus the fetch).
# Usage: tests/bench/apply_bench.sh [-d SECONDS] [-c CONNECTIONS] [-w WORKERS_FOR_(a)] [-n APPLIES]
#                                   [-m APPLIES_FOR_(d)] [-a]
#   -n: applies for 10 and 1,000 routes (10,000 routes get a third of it, at least 5).
#   -a: only (a) and (d).
set -euo pipefail
cd "$(dirname "$0")/../.."
duration=10 conns=32 aworkers=2 napply=30 nmem=100 only_a=0
while getopts "d:c:w:n:m:a" o; do
  case $o in d) duration=$OPTARG ;; c) conns=$OPTARG ;; w) aworkers=$OPTARG ;; n) napply=$OPTARG ;;
             m) nmem=$OPTARG ;; a) only_a=1 ;; *) exit 2 ;; esac
done
for t in wrk nginx curl; do
  command -v "$t" >/dev/null || PATH=$PATH:/usr/sbin command -v "$t" >/dev/null || {
    pkg=$t; [[ $t == nginx ]] && pkg=nginx-light
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$pkg"; }
done
export PATH=$PATH:/usr/sbin
for b in rwproxy rwctl rwupstream; do
  [[ -x build/bin/$b ]] || cmake --build build --target rwproxy rwctl rwupstream -j2
done
bin=$PWD/build/bin
dir=$(mktemp -d /tmp/rwapply.XXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

wait_file() { for _ in $(seq 1 100); do [[ -s $1 ]] && grep -q "$2" "$1" && return 0; sleep 0.1; done
              echo "timeout waiting for $1" >&2; exit 1; }
addr() { awk -v k="$2" '$1==k{print $2}' "$1"; }
now_us() { local t=$EPOCHREALTIME; echo "${t/./}"; }

"$bin/rwupstream" --listen 127.0.0.1:0 --threads 1 --ports-file "$dir/up.ports" 2>"$dir/up.log" & pids+=($!)
wait_file "$dir/up.ports" upstream; up=$(addr "$dir/up.ports" upstream)
up_conns() { curl -fs "http://$up/__stats" | awk -F= '$1=="connections"{print $2}'; }

# gen N VARIANT FILE: route 1 is the wrk route (regex rewrite), then alternating regex/prefix routes
# whose rewrite targets depend on VARIANT, so the two variants differ in every other route.
gen() {
  awk -v n="$1" -v v="$2" -v up="$up" 'BEGIN {
    print "clusters:\n  - name: app\n    endpoints: [\"" up "\"]\n    pool: {max_idle: 64}\nroutes:"
    print "  - name: api\n    match: {path_regex: \"^/api/(.*)$\"}\n    rewrite: {path: \"/$1\"}\n    cluster: app"
    for (i = 1; i < n; i++) {
      if (i % 2) printf "  - name: re%d\n    match: {path_regex: \"^/r%d/([a-z]+)/(.*)$\"}\n    rewrite: {path: \"/%s/%d/$2?k=$1\"}\n    cluster: app\n", i, i, v, i
      else       printf "  - name: px%d\n    match: {path_prefix: /p%d/}\n    rewrite: {prefix: \"/%s%d/\"}\n    cluster: app\n", i, i, v, i
    } }' > "$3"
}
for n in 10 1000 10000; do gen "$n" a "$dir/r$n.a.yaml"; gen "$n" b "$dir/r$n.b.yaml"; done

# start_proxy NAME WORKERS CONFIG: sets $proxy $admin $control
start_proxy() {
  "$bin/rwproxy" --config "$3" ${4:+--state-dir "$4"} --listen 127.0.0.1:0 --admin 127.0.0.1:0 --control 127.0.0.1:0 \
    --workers "$2" --drain-timeout 1s --ports-file "$dir/$1.ports" 2>"$dir/$1.log" & pids+=($!); last_pid=$!
  wait_file "$dir/$1.ports" control
  proxy=$(addr "$dir/$1.ports" proxy); admin=$(addr "$dir/$1.ports" admin); control=$(addr "$dir/$1.ports" control)
  for _ in $(seq 1 100); do [[ $(curl -s -o /dev/null -w '%{http_code}' "http://$admin/ready") == 200 ]] && return 0; sleep 0.1; done
  echo "$1 not ready" >&2; exit 1
}
cx_total() { curl -fs "http://$admin/stats" | awk '$1=="cluster.app.upstream_cx_total:"{print $2}'; }

echo "# $(date -u +%FT%TZ) $(nproc) cores; load average at start: $(uptime | sed 's/.*load average: //')"

# ---- (a) apply latency --------------------------------------------------------------------------
start_proxy a "$aworkers" "$dir/r10.a.yaml" "$dir/state.a"; a_pid=$last_pid
pct() { sort -g | awk -v q="$1" '{a[NR]=$1} END{i=int(q*NR); if (i<q*NR) i++; if (i<1) i=1; printf "%.1f", a[i]}'; }
# server_ms VERSION: the total of the proxy's log line for that version
server_ms() { sed -n "s/.*applied version $1 (.* in \([0-9.]*\) ms: .*/\1/p" "$dir/a.log" | tail -1; }
printf '\n(a) apply latency, rwproxy --workers %s --state-dir (p99 = nearest rank: equals max when n < 100)\n' "$aworkers"
printf '%-8s %6s %10s %10s %10s %10s %10s %10s %10s\n' routes n server_p50 server_p99 server_max rwctl_p50 rwctl_p99 rwctl_max yaml_KiB
for n in 10 1000 10000; do
  reps=$napply; ((n == 10000)) && reps=$(( napply / 3 > 5 ? napply / 3 : 5 ))
  : > "$dir/lat$n"; : > "$dir/srv$n"
  "$bin/rwctl" --server "$control" apply "$dir/r$n.b.yaml" --timeout 60s >/dev/null  # size change, untimed
  for i in $(seq 1 "$reps"); do
    v=a; ((i % 2 == 0)) && v=b
    t0=$(now_us)
    out=$("$bin/rwctl" --server "$control" apply "$dir/r$n.$v.yaml" --timeout 60s)
    t1=$(now_us)
    [[ $out == "applied version "* ]] || { echo "apply $n/$v: unexpected '$out'" >&2; exit 1; }
    echo "$(( t1 - t0 ))" | awk '{print $1/1000}' >> "$dir/lat$n"
    version=${out#applied version }; version=${version%% *}
    for _ in $(seq 1 50); do s=$(server_ms "$version"); [[ -n $s ]] && break; sleep 0.02; done
    echo "${s:?no log line for version $version}" >> "$dir/srv$n"
  done
  printf '%-8s %6s %10s %10s %10s %10s %10s %10s %10s\n' "$n" "$reps" \
    "$(pct 0.5 < "$dir/srv$n")" "$(pct 0.99 < "$dir/srv$n")" "$(pct 1 < "$dir/srv$n")" \
    "$(pct 0.5 < "$dir/lat$n")" "$(pct 0.99 < "$dir/lat$n")" "$(pct 1 < "$dir/lat$n")" \
    "$(( $(stat -c %s "$dir/r$n.a.yaml") / 1024 ))"
done
echo "server: validate + compile + persist (fsync) + publish, from the proxy's log; rwctl: wall time of the whole process"

# ---- (d) memory over many large applies ---------------------------------------------------------
rss() { awk '/^VmRSS/{printf "%.1f", $2/1024}' "/proc/$1/status"; }
printf '\n(d) %s applies of alternating 10,000-route configs (--state-dir, default history bounds)\n' "$nmem"
printf '%8s %9s %10s %11s\n' applies rss_MiB state_MiB state_files
printf '%8s %9s %10s %11s\n' 0 "$(rss "$a_pid")" "$(du -sm "$dir/state.a" | cut -f1)" "$(ls "$dir/state.a" | wc -l)"
for i in $(seq 1 "$nmem"); do
  v=a; ((i % 2 == 0)) && v=b
  "$bin/rwctl" --server "$control" apply "$dir/r10000.$v.yaml" --timeout 60s >/dev/null
  if ((i == 10 || i == 20 || i == 50 || i == nmem)); then
    printf '%8s %9s %10s %11s\n' "$i" "$(rss "$a_pid")" "$(du -sm "$dir/state.a" | cut -f1)" "$(ls "$dir/state.a" | wc -l)"
  fi
done
kill "$a_pid"; wait "$a_pid" 2>/dev/null || true
((only_a)) && { echo "raw: $dir"; exit 0; }

# ---- (b) rwproxy and (c) nginx: wrk steady vs during config changes every 100 ms ----------------
start_proxy b 1 "$dir/r10.a.yaml"
ngx_port=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
mkdir -p "$dir/ngx"
cat > "$dir/ngx/nginx.conf" <<CONF
worker_processes 1; daemon off; pid $dir/ngx/nginx.pid; error_log $dir/ngx/error.log;
events { worker_connections 4096; }
http {
  access_log off; keepalive_requests 1000000;
  upstream app { server $up; keepalive 64; }
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
for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$ngx_port/api/x" >/dev/null 2>&1 && break; sleep 0.1; done
curl -fs "http://$proxy/api/x" >/dev/null
change_rw()  { v=a; (( $1 % 2 )) && v=b
               [[ $("$bin/rwctl" --server "$control" apply "$dir/r10.$v.yaml" 2>&1) == "applied version "* ]]; }
change_ngx() { nginx -c "$dir/ngx/nginx.conf" -p "$dir/ngx" -s reload 2>/dev/null; }

# run NAME URL CHANGE_FN|none: "name rps requests non2xx sockerr proxy_cx upstream_cx changes failed"
run() {
  local name=$1 url=$2 fn=$3 u0 u1 c0=0 c1=0 k=0 failed=0 next
  sleep 1; u0=$(up_conns); [[ $name == rw* ]] && c0=$(cx_total)
  wrk -t1 -c"$conns" -d"${duration}s" "$url" > "$dir/wrk.$name" 2>&1 & local wp=$!
  if [[ $fn != none ]]; then
    next=$(now_us)
    while kill -0 "$wp" 2>/dev/null && (( k < duration * 10 + 50 )); do
      k=$((k + 1)); $fn "$k" || failed=$((failed + 1))
      next=$((next + 100000)); local rest=$(( next - $(now_us) ))
      if (( rest > 0 )); then sleep "$(printf '0.%06d' "$rest")"; fi
    done
  fi
  local me=$BASHPID cpu; cpu=$(awk -v hz="$(getconf CLK_TCK)" '{print ($16+$17)*1000/hz}' "/proc/$me/stat")  # waited changers
  wait "$wp"; sleep 1
  u1=$(up_conns); [[ $name == rw* ]] && c1=$(cx_total)
  local o=$dir/wrk.$name
  echo "$name $(awk '/Requests\/sec/{print $2}' "$o") $(awk '/requests in/{print $1}' "$o")" \
       "$(awk '/Non-2xx/{print $NF}' "$o" | grep . || echo 0)" \
       "$(awk -F'[ ,]+' '/Socket errors/{print $5+$7+$9+$11}' "$o" | grep . || echo 0)" \
       "$([[ $name == rw* ]] && echo $((c1 - c0)) || echo -)" "$((u1 - u0 - 1))" "$k" "$failed" "$cpu"
}
for u in "http://$proxy/api/x" "http://127.0.0.1:$ngx_port/api/x"; do wrk -t1 -c"$conns" -d2s "$u" >/dev/null; done  # warm-up
res=()
res+=("$(run rw_steady "http://$proxy/api/x" none)")
res+=("$(run rw_reapply "http://$proxy/api/x" change_rw)")
res+=("$(run ngx_steady "http://127.0.0.1:$ngx_port/api/x" none)")
res+=("$(run ngx_reload "http://127.0.0.1:$ngx_port/api/x" change_ngx)")
printf '%s\n' "${res[@]}" > "$dir/results.txt"

printf '\n(b)/(c) wrk -t1 -c%s -d%ss; config change every 100 ms (rwctl apply of alternating 10-route configs / nginx -s reload)\n' "$conns" "$duration"
printf '%-11s %9s %9s %9s %7s %8s %8s %11s %7s %6s %13s\n' run req/s vs_steady requests non2xx sock_err proxy_cx upstream_cx changes failed changer_cpu_ms
awk '{ st = ($1 ~ /steady/); if (st) base = $2
       printf "%-11s %9.0f %9.3f %9s %7s %8s %8s %11s %7s %6s %13s\n", $1, $2, $2/base, $3, $4, $5, $6, $7,
              (st ? "-" : $8), (st ? "-" : $9), (st ? "-" : $10) }' "$dir/results.txt"
echo "proxy_cx: rwproxy upstream_cx_total diff; upstream_cx: new connections seen by rwupstream (minus the /__stats fetch);"
echo "changes: applies/reloads done; failed: applies not 'applied version N' / reloads exit != 0;"
echo "changer_cpu_ms: user+sys CPU of the rwctl / 'nginx -s reload' client processes (on the same cores; not the proxy's own work)"
echo "rwproxy/nginx req/s steady $(awk '$1=="rw_steady"{r=$2} $1=="ngx_steady"{n=$2} END{printf "%.2f", r/n}' "$dir/results.txt"), during changes $(awk '$1=="rw_reapply"{r=$2} $1=="ngx_reload"{n=$2} END{printf "%.2f", r/n}' "$dir/results.txt")"
echo "load average at end: $(uptime | sed 's/.*load average: //'); raw: $dir"
