#!/usr/bin/env bash
# shellcheck disable=SC2154  # per-target medians are set by `declare`
# TLS benchmark, run by hand (never in CI): rwproxy beside Debian's nginx, one run, side by side,
# same certificate, same pinning, everything on 127.0.0.1. rwproxy --workers 1, nginx
# worker_processes 1. The certificate is made at run time with the openssl CLI in the temp dir:
# a CA and a server certificate (SAN DNS:bench.test, IP:127.0.0.1), both ECDSA P-256.
#
#   W1  wrk -t1 -cCONNECTIONS keep-alive HTTPS to each proxy's TLS listener, path /api/x, regex
#       rewrite ^/api/(.*)$ -> /$1, proxied over pooled TLS connections to ONE shared upstream
#       (a third nginx, 1 worker, `listen ssl`, `return 200 "ok"`), verified against the CA with
#       the name bench.test:
#         rwproxy  --tls-listen/--tls-cert/--tls-key; cluster tls {sni: bench.test, ca_file: CA},
#                  pool max_idle 64
#         nginx    listen ssl; proxy_pass https://app (keepalive 64), proxy_ssl_session_reuse on,
#                  proxy_ssl_server_name on, proxy_ssl_name bench.test, proxy_ssl_verify on,
#                  proxy_ssl_trusted_certificate CA, proxy_ssl_protocols TLSv1.2 TLSv1.3
#       Per target: req/s, p50/p99, proxy CPU us per request (utime+stime from /proc/PID/stat of
#       all the proxy's processes over the wrk run / requests), upstream TLS connections per 1,000
#       requests (the upstream nginx's stub_status `accepts`, on a separate plain listener).
#   HS  new TLS connection per request: PROCS `openssl s_time -new -www /local` processes (each
#       one sequential; -new = a full handshake every time, never a resumed session; wrk is not
#       used here because it keeps the session across reconnects and resumes it: with
#       `Connection: close` rwproxy counted 909 of 913 handshakes as resumed) against each
#       proxy's TLS listener; the proxy answers locally (rwproxy: respond route; nginx: return
#       200), so the handshake is what is measured. HTTP/1.0 request, the server closes. s_time
#       runs with -no-CAfile -no-CApath -no-CAstore, so it checks the handshake signature but
#       does not try to build the chain (cheaper clients; the same for both proxies).
#       Per target: handshakes/s (server-side count: rwproxy listener.tls.downstream_tls_handshakes,
#       nginx stub_status accepts), proxy CPU us per handshake, the proxy's share of its core,
#       and the one-core capacity this implies (1e6 / cpu_us_per_handshake).
#       Caveat: an OpenSSL 3.0 client spends more CPU per handshake than the server, so with the
#       clients confined to core 1 the proxy's core is not saturated (proxy_core_% well under
#       100): the measured rate is then the clients', and CPU per handshake (capacity per core)
#       is the figure that compares the proxies. More processes than 2 only add context switches
#       on core 1 (fewer handshakes/s in total on the machine this was written on).
# Medians over ROUNDS. Both listeners are checked once with `openssl s_client` (protocol, cipher,
# key exchange group), and the upstream leg of each proxy through GET /api/proto, which the
# upstream answers with its $ssl_protocol $ssl_cipher $ssl_curve.
# With >= 2 cores the proxies run on core 0; wrk, s_time and the upstream on core 1.
# Configs, logs and raw rounds stay in the printed /tmp/rwtls.XXXX directory.
#
# Usage: tests/bench/tls_bench.sh [-d SECONDS] [-c CONNECTIONS] [-r ROUNDS] [-p PROCS]
#   -d  seconds per run (default 10)    -c  W1 wrk connections (default 64)
#   -r  rounds (default 3)              -p  HS s_time client processes (default 2)
set -euo pipefail
cd "$(dirname "$0")/../.."
cmdline="tests/bench/tls_bench.sh${*:+ $*}"
duration=10 conns=64 rounds=3 procs_hs=2
while (($#)); do
  case $1 in
    -d) duration=$2 ;; -c) conns=$2 ;; -r) rounds=$2 ;; -p) procs_hs=$2 ;;
    *) sed -n '/^# Usage/,/^set/p' "$0" | sed '$d'; exit 2 ;;
  esac
  shift 2
done
deploy/install-deps.sh --bench --no-browser >/dev/null
export PATH=$PATH:/usr/sbin
[[ -x build/bin/rwproxy ]] || { echo "build/bin/rwproxy is missing: cmake --build build --target rwproxy" >&2; exit 1; }

nofile=$(ulimit -Hn); [[ $nofile == unlimited ]] && nofile=1048576
ulimit -n "$nofile"
if (($(nproc) >= 2)); then pin_proxy=(taskset -c 0) pin_load=(taskset -c 1) pinning="proxies core 0, wrk+s_time+upstream core 1"
else pin_proxy=() pin_load=() pinning="none (1 core)"; fi
hz=$(getconf CLK_TCK)

dir=$(mktemp -d /tmp/rwtls.XXXX)
pids=() clients=()
cleanup() { for p in "${clients[@]}" "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT
free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
up_port=$(free_port) up_stat=$(free_port) ngx_port=$(free_port) ngx_stat=$(free_port) rw_tls=$(free_port)
mkdir -p "$dir/up" "$dir/ngx" "$dir/pki"

# --- certificates: CA + server cert (ECDSA P-256) -----------------------------------------------
pki=$dir/pki
{
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$pki/ca.key" \
    -out "$pki/ca.pem" -subj /CN=rwproxy-bench-ca -days 2 \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$pki/server.key" \
    -out "$pki/server.csr" -subj /CN=bench.test
  printf '%s\n' 'subjectAltName=DNS:bench.test,IP:127.0.0.1' 'basicConstraints=CA:FALSE' \
    'keyUsage=critical,digitalSignature' 'extendedKeyUsage=serverAuth' > "$pki/server.ext"
  openssl x509 -req -in "$pki/server.csr" -CA "$pki/ca.pem" -CAkey "$pki/ca.key" -CAcreateserial \
    -days 2 -sha256 -extfile "$pki/server.ext" -out "$pki/server.pem"
} >"$pki/openssl.log" 2>&1 || { cat "$pki/openssl.log" >&2; exit 1; }
chmod 600 "$pki"/*.key
ca=$pki/ca.pem crt=$pki/server.pem key=$pki/server.key

# --- servers ------------------------------------------------------------------------------------
# Upstream: nginx, one worker, TLS, plus a plain stub_status listener that counts accepted
# connections. /proto tells which protocol, cipher and group the proxy's upstream leg uses.
cat > "$dir/up/nginx.conf" <<CONF
worker_processes 1; daemon off; pid $dir/up/nginx.pid; error_log $dir/up/error.log;
worker_rlimit_nofile $nofile;
events { worker_connections 4096; }
http {
  access_log off; keepalive_requests 1000000; keepalive_timeout 75s;
  server {
    listen 127.0.0.1:$up_port ssl;
    ssl_certificate $crt; ssl_certificate_key $key; ssl_protocols TLSv1.2 TLSv1.3;
    location = /proto { return 200 "\$ssl_protocol \$ssl_cipher \$ssl_curve reused=\$ssl_session_reused\n"; }
    location / { return 200 "ok"; }
  }
  server { listen 127.0.0.1:$up_stat; location / { stub_status; } }
}
CONF
"${pin_load[@]}" nginx -c "$dir/up/nginx.conf" -p "$dir/up" & up_pid=$!; pids+=("$up_pid")

# nginx proxy: TLS listener, same certificate; pooled TLS to the upstream. Its own plain
# stub_status listener counts the client connections (= handshakes in HS).
cat > "$dir/ngx/nginx.conf" <<CONF
worker_processes 1; daemon off; pid $dir/ngx/nginx.pid; error_log $dir/ngx/error.log;
worker_rlimit_nofile $nofile;
events { worker_connections 4096; }
http {
  access_log off; keepalive_requests 1000000; keepalive_timeout 75s;
  upstream app { server 127.0.0.1:$up_port; keepalive 64; }
  server {
    listen 127.0.0.1:$ngx_port ssl;
    ssl_certificate $crt; ssl_certificate_key $key; ssl_protocols TLSv1.2 TLSv1.3;
    location /api/ {
      rewrite ^/api/(.*)\$ /\$1 break;
      proxy_pass https://app; proxy_http_version 1.1; proxy_set_header Connection "";
      proxy_ssl_session_reuse on; proxy_ssl_server_name on; proxy_ssl_name bench.test;
      proxy_ssl_verify on; proxy_ssl_trusted_certificate $ca; proxy_ssl_protocols TLSv1.2 TLSv1.3;
    }
    location = /local { return 200 "ok"; }
  }
  server { listen 127.0.0.1:$ngx_stat; location / { stub_status; } }
}
CONF
"${pin_proxy[@]}" nginx -c "$dir/ngx/nginx.conf" -p "$dir/ngx" & ngx_pid=$!; pids+=("$ngx_pid")

cat > "$dir/routes.yaml" <<CONF
clusters:
  - name: app
    endpoints: ["127.0.0.1:$up_port"]
    pool: {max_idle: 64}
    tls: {sni: bench.test, ca_file: "$ca"}
routes:
  - name: local
    match: {path_exact: /local}
    respond: {status: 200, body: "ok"}
  - name: api
    match: {path_regex: "^/api/(.*)\$"}
    rewrite: {path: "/\$1"}
    cluster: app
CONF
"${pin_proxy[@]}" build/bin/rwproxy --config "$dir/routes.yaml" --listen 127.0.0.1:0 \
  --tls-listen "127.0.0.1:$rw_tls" --tls-cert "$crt" --tls-key "$key" \
  --admin 127.0.0.1:0 --control 127.0.0.1:0 --workers 1 --drain-timeout 1s \
  --ports-file "$dir/rw.ports" 2>"$dir/rwproxy.log" & rw_pid=$!; pids+=("$rw_pid")
for _ in $(seq 1 100); do grep -qs '^admin ' "$dir/rw.ports" && break; sleep 0.1; done
rw_admin=$(awk '$1=="admin"{print $2}' "$dir/rw.ports")

# wait_ok URL: up to 10 s for a 200 (verifying the certificate against the CA)
wait_ok() { for _ in $(seq 1 100); do curl -fs --cacert "$ca" -o /dev/null "$1" && return 0; sleep 0.1; done
            echo "not answering: $1 (logs in $dir)" >&2; exit 1; }
wait_ok "http://127.0.0.1:$up_stat/"; wait_ok "http://127.0.0.1:$ngx_stat/"; wait_ok "http://$rw_admin/ready"
wait_ok "https://127.0.0.1:$up_port/x"
for p in $ngx_port $rw_tls; do wait_ok "https://127.0.0.1:$p/api/x"; wait_ok "https://127.0.0.1:$p/local"; done

# --- measurement helpers ------------------------------------------------------------------------
declare -A port=([rwproxy]=$rw_tls [nginx]=$ngx_port)
declare -A pid=([rwproxy]=$rw_pid [nginx]=$ngx_pid)
# procs PID: the PID and its children (nginx: master + worker; rwproxy: one process)
# shellcheck disable=SC2046  # one PID per word
procs() { echo "$1" $(pgrep -P "$1" || true); }
# cpu_ticks PID: utime+stime (/proc/PID/stat fields 14+15; after "pid (comm) " they are $12,$13)
cpu_ticks() { local p t=0; for p in $(procs "$1"); do
                t=$((t + $(awk '{sub(/^.*\) /, ""); print $12 + $13}' "/proc/$p/stat"))); done; echo $t; }
accepts() { curl -fs "http://127.0.0.1:$1/" | awk 'NR==3{print $1}'; }
rw_stat() { curl -fs "http://$rw_admin/stats" | awk -v n="$1" '$1==n":"{print $2}'; }
# client_cx TARGET: connections the proxy accepted on its TLS listener so far (nginx: stub_status
# accepts, which also counts the stub_status reads themselves; rwproxy: handshakes done)
client_cx() { if [[ $1 == nginx ]]; then accepts "$ngx_stat"; else rw_stat listener.tls.downstream_tls_handshakes; fi; }
now() { date +%s.%N; }

# w1 TARGET: "TARGET_W1 req/s p50 p99 requests new_upstream_cx cpu_us/req [errors]"
w1() {
  local t=$1 a0 a1 c0 c1 out rps p50 p99 reqs errs cpu
  a0=$(accepts "$up_stat"); c0=$(cpu_ticks "${pid[$t]}")
  "${pin_load[@]}" wrk -t1 -c"$conns" -d"${duration}s" --latency \
    "https://127.0.0.1:${port[$t]}/api/x" > "$dir/wrk.out"
  c1=$(cpu_ticks "${pid[$t]}"); a1=$(accepts "$up_stat")
  out=$(<"$dir/wrk.out"); cat "$dir/wrk.out" >> "$dir/wrk.all"
  rps=$(awk '/Requests\/sec/{print $2}' <<<"$out")
  p50=$(awk '$1=="50%"{print $2}' <<<"$out"); p99=$(awk '$1=="99%"{print $2}' <<<"$out")
  reqs=$(awk '/requests in/{print $1}' <<<"$out")
  errs=$(awk '/Non-2xx|Socket errors/' <<<"$out" | tr '\n' ' ')
  cpu=$(awk -v t=$((c1 - c0)) -v hz="$hz" -v r="$reqs" 'BEGIN{printf "%.2f", (r > 0 ? t * 1e6 / hz / r : 0)}')
  # a1 - a0 includes the connection of the second stub_status read itself
  echo "${t}_W1 $rps $p50 $p99 $reqs $((a1 - a0 - 1)) $cpu ${errs:-}"
}

# hs TARGET: "TARGET_HS handshakes/s handshakes cpu_us/handshake proxy_core_% s_time_cx bytes/cx resumed"
hs() {
  local t=$1 n0 n1 c0 c1 r0 r1=0 w0 w1 i total=0 bpc=0
  n0=$(client_cx "$t"); c0=$(cpu_ticks "${pid[$t]}"); w0=$(now)
  [[ $t == rwproxy ]] && r0=$(rw_stat listener.tls.downstream_tls_resumed)
  clients=()
  for i in $(seq 1 "$procs_hs"); do
    "${pin_load[@]}" openssl s_time -connect "127.0.0.1:${port[$t]}" -new -www /local \
      -time "$duration" -no-CAfile -no-CApath -no-CAstore > "$dir/stime.$i" 2>&1 & clients+=($!)
  done
  wait "${clients[@]}" || true; clients=()
  w1=$(now); c1=$(cpu_ticks "${pid[$t]}"); n1=$(client_cx "$t")
  [[ $t == rwproxy ]] && r1=$(($(rw_stat listener.tls.downstream_tls_resumed) - r0))
  for i in $(seq 1 "$procs_hs"); do
    total=$((total + $(awk '/connections in .* real seconds/{print $1; f=1} END{if (!f) print 0}' "$dir/stime.$i")))
    bpc=$(awk '/bytes read per connection/{print $(NF-4)}' "$dir/stime.$i")
    sed -E 's/[*r]{5,}//g' "$dir/stime.$i" >> "$dir/stime.all"
  done
  local n=$((n1 - n0)); [[ $t == nginx ]] && n=$((n - 1))
  awk -v t="$t" -v n="$n" -v c=$((c1 - c0)) -v hz="$hz" -v w0="$w0" -v w1="$w1" -v tot="$total" \
      -v bpc="${bpc:-0}" -v r="$r1" \
    'BEGIN { w = w1 - w0; printf "%s_HS %.1f %d %.2f %.1f %d %s %d\n", t, n / w, n,
             (n > 0 ? c * 1e6 / hz / n : 0), 100 * c / hz / w, tot, bpc, r }'
}
to_ms() { awk -v v="$1" 'BEGIN{ if (v ~ /ms$/) {sub(/ms/,"",v); print v} else if (v ~ /us$/) {sub(/us/,"",v); print v/1000} else {sub(/s/,"",v); print v*1000} }'; }
median() { sort -g | awk '{a[NR]=$1} END{print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
col() { awk -v n="$1" -v c="$2" '$1==n{print $c}' "$dir/results.txt"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{print (b > 0 ? sprintf("%.2f", a / b) : "n/a")}'; }

echo "# $(date -u +%FT%TZ) $(nproc) cores ($(awk -F': ' '/model name/{print $2; exit}' /proc/cpuinfo)), pinning: $pinning, CLK_TCK=$hz"
echo "# rwproxy $(build/bin/rwproxy --version 2>&1 | head -1) (binary of $(stat -c %y build/bin/rwproxy | cut -d. -f1)) --workers 1, $(nginx -v 2>&1 | sed 's/.*: //') worker_processes 1, $(openssl version | cut -d' ' -f1-2)"
echo "# $cmdline   (dir $dir)"
echo "# certificate: ECDSA P-256, CA-signed, SAN DNS:bench.test IP:127.0.0.1"

# --- negotiated parameters ------------------------------------------------------------------------
echo
printf '%-26s %s\n' leg 'protocol / cipher / group (+ verification)'
for t in rwproxy nginx; do
  s=$(openssl s_client -connect "127.0.0.1:${port[$t]}" -servername bench.test -CAfile "$ca" \
        -brief </dev/null 2>&1 | tr -d '\r')
  printf '%-26s %s / %s / %s (%s)\n' "client -> $t" \
    "$(awk -F': ' '/^Protocol version/{print $2}' <<<"$s")" "$(awk -F': ' '/^Ciphersuite/{print $2}' <<<"$s")" \
    "$(awk -F': ' '/^(Negotiated TLS1.3 group|Server Temp Key)/{print $2; exit}' <<<"$s")" \
    "$(awk -F': ' '/^Verification/{print $2}' <<<"$s")"
  s=$(openssl s_time -connect "127.0.0.1:${port[$t]}" -new -www /local -time 1 -no-CAfile -no-CApath \
        -no-CAstore 2>&1 | tail -1)
  printf '%-26s %s\n' "  (s_time -new, 1 s)" "$s"
  printf '%-26s %s\n' "$t -> upstream" "$(curl -fs --cacert "$ca" "https://127.0.0.1:${port[$t]}/api/proto")"
done

# --- rounds -----------------------------------------------------------------------------------------
echo
echo "# W1: wrk -t1 -c$conns -d${duration}s --latency https://.../api/x; HS: $procs_hs x openssl s_time -new -www /local -time $duration; rounds=$rounds"
ups0=$(rw_stat cluster.app.upstream_tls_handshakes)
results=()
for r in $(seq 1 "$rounds"); do
  for t in rwproxy nginx; do results+=("$(w1 $t)"); done
  for t in rwproxy nginx; do results+=("$(hs $t)"); done
  echo "round $r done" >&2
done
printf '%s\n' "${results[@]}" > "$dir/results.txt"
ups1=$(rw_stat cluster.app.upstream_tls_handshakes)

printf '\n%-11s %9s %8s %8s %10s %11s %15s  %s\n' W1 req/s p50_ms p99_ms requests cpu_us/req upstream_tls/1k errors
for t in rwproxy nginx; do
  n=${t}_W1
  rps=$(col "$n" 2 | median)
  p50=$(for v in $(col "$n" 3); do to_ms "$v"; done | median)
  p99=$(for v in $(col "$n" 4); do to_ms "$v"; done | median)
  reqs=$(col "$n" 5 | median) cx=$(col "$n" 6 | median) cpu=$(col "$n" 7 | median)
  per1k=$(awk -v c="$cx" -v r="$reqs" 'BEGIN{printf "%.3f", (r > 0 ? c * 1000 / r : 0)}')
  errs=$(awk -v n="$n" '$1==n && NF > 7 {$1=$2=$3=$4=$5=$6=$7=""; print}' "$dir/results.txt" | tr -s ' ' | head -1)
  printf '%-11s %9.0f %8.3f %8.3f %10.0f %11.2f %15s  %s\n' "$t" "$rps" "$p50" "$p99" "$reqs" "$cpu" "$per1k" "${errs:-none}"
  declare "rps_$t=$rps" "cpu_$t=$cpu" "p99_$t=$p99"
done
echo "(upstream_tls/1k: new connections the upstream accepted per 1,000 requests, median over rounds;"
echo " rwproxy cluster.app.upstream_tls_handshakes over all rounds: $((ups1 - ups0)))"

printf '\n%-11s %12s %11s %14s %12s %16s %9s\n' HS handshakes/s handshakes cpu_us/hs proxy_core_% capacity/core_hs/s resumed
for t in rwproxy nginx; do
  n=${t}_HS
  rate=$(col "$n" 2 | median) cnt=$(col "$n" 3 | median) cpu=$(col "$n" 4 | median) busy=$(col "$n" 5 | median)
  cap=$(awk -v c="$cpu" 'BEGIN{printf "%.0f", (c > 0 ? 1e6 / c : 0)}')
  res=$([[ $t == rwproxy ]] && col "$n" 8 | awk '{s += $1} END{print s}' || echo "n/a")
  printf '%-11s %12.0f %11.0f %14.2f %12.1f %16s %9s\n' "$t" "$rate" "$cnt" "$cpu" "$busy" "$cap" "$res"
  declare "hsrate_$t=$rate" "hscpu_$t=$cpu" "hsbusy_$t=$busy"
done
echo "(server-side counts; s_time's own count and bytes read per connection are in $dir/results.txt columns 6-7;"
echo " proxy_core_% = proxy CPU / wall time: well under 100 means the clients on core 1 set the rate)"

# --- ratios ---------------------------------------------------------------------------------------
# "ratio of medians" uses the medians above; "median of rounds" is the median of the ratios of
# each round (rwproxy and nginx run back to back in a round), which is steadier when the machine's
# speed changes in phases (a shared VM host).
paired() { paste <(col "$1" "$3") <(col "$2" "$3") | awk '$2 > 0 {print $1 / $2}' | median | xargs printf '%.2f'; }
printf '\n%-42s %17s %17s  %s\n' 'rwproxy / nginx, same run' 'ratio of medians' 'median of rounds' target
printf '%-42s %17s %17s  %s\n' 'W1 CPU per request (TLS both sides)' "$(ratio "$cpu_rwproxy" "$cpu_nginx")" "$(paired rwproxy_W1 nginx_W1 7)" '<= 1.0'
printf '%-42s %17s %17s\n' 'W1 req/s' "$(ratio "$rps_rwproxy" "$rps_nginx")" "$(paired rwproxy_W1 nginx_W1 2)"
printf '%-42s %17s\n' 'W1 p99' "$(ratio "$p99_rwproxy" "$p99_nginx")"
printf '%-42s %17s %17s  %s\n' 'HS handshakes/s (measured)' "$(ratio "$hsrate_rwproxy" "$hsrate_nginx")" "$(paired rwproxy_HS nginx_HS 2)" '>= 0.9'
printf '%-42s %17s %17s  %s\n' 'HS handshakes/s per core (1 / CPU per hs)' "$(ratio "$hscpu_nginx" "$hscpu_rwproxy")" "$(paired nginx_HS rwproxy_HS 4)" '>= 0.9'
printf '%-42s %17s %17s\n' 'HS CPU per handshake' "$(ratio "$hscpu_rwproxy" "$hscpu_nginx")" "$(paired rwproxy_HS nginx_HS 4)"

# --- sanity ---------------------------------------------------------------------------------------
echo
grep -h "Socket errors\|Non-2xx" "$dir/wrk.all" | sort | uniq -c || echo "wrk errors: none"
grep -q 'ERROR\|error:' "$dir/stime.all" && { echo "s_time errors:"; grep -h 'ERROR\|error:' "$dir/stime.all" | sort | uniq -c | head -5; } || echo "s_time errors: none"
echo "rwproxy log: $(grep -ci 'error\|warn' "$dir/rwproxy.log" || true) error/warning lines; nginx proxy error.log: $(grep -c . "$dir/ngx/error.log" || true) lines; upstream error.log: $(grep -c . "$dir/up/error.log" || true) lines"
curl -fs "http://$rw_admin/stats" | grep -E 'downstream_tls_handshake_fail|upstream_tls_handshake_fail|rq_5xx|cluster.app.upstream_cx_total' | tr '\n' ' '; echo
echo "raw rounds: $dir/results.txt"
