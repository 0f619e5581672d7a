#!/usr/bin/env bash
# Resilience benchmark for issue #8's targets, run by hand (never in CI). Everything on 127.0.0.1.
#
# Part "kill": an upstream dies under load.
#   3 rwupstream endpoints (--threads 1 each) behind rwproxy (--workers W), one cluster with
#   outlier_detection {consecutive_connect_failures: 1, consecutive_5xx: 5, base_ejection_time: 10s}
#   and health_check {path: /healthz, interval: 1s, timeout: 500ms}; regex rewrite route
#   ^/api/(.*)$ -> /$1 with retry {on: [connect-failure, reset], max: 2} (none with --no-retry).
#   Load: wrk -t2 -cCONNS against /api/x as SLICES consecutive 1-second wrk runs (after a 1 s
#   warm-up run that is not counted). A background job SIGKILLs one random upstream (by pid) at a
#   random moment inside slice SLICES/2+1 (slice 6 of 10): it waits until that slice has started
#   (start times are recorded by the slice loop), then sleeps a random 0.00-0.90 s.
#   Per slice: req/s, non-2xx responses, socket errors (connect/read/write/timeout), retries.
#   Report: client-visible errors (non-2xx + socket errors, all slices; target 0), mean req/s of
#   the slices from the kill on as a % of the slices before (target >= 90%), rwproxy's
#   upstream_rq_retry / outlier_ejections_total (and related counters) and /clusters?format=text.
#
# Part "hc": idle cost of active health checks.
#   One python3 asyncio process listens on N ports (default 1000) and answers every request with
#   `200 OK, Content-Length: 2, "ok"` (keep-alive), counting requests and connections (GET
#   /__count answers "REQUESTS CONNECTIONS", itself not counted). rwproxy with one cluster of those N endpoints and health_check {path: /healthz,
#   interval: 1s, timeout: 500ms}, no client traffic: after a 3 s warm-up, rwproxy's CPU
#   (utime+stime from /proc/PID/stat) over D seconds as % of one core, and the checks per second
#   and new connections per second the python server counted (~N/s and ~0 expected). Then the same without health_check (baseline);
#   the cost is the difference (target < 2% of one core).
#
# With >= 2 cores rwproxy runs on core 0; wrk, the upstreams and the python server on core 1.
# Caveat: on 2 cores the load core (wrk + 3 upstreams) can be the bottleneck; then losing one
# upstream frees CPU there and req/s after the kill can exceed 100% of before.
# Logs and configs are kept in the printed /tmp/rwres.XXXX directory.
#
# Usage: tests/bench/resilience_bench.sh [--part kill|hc|all] [-s SLICES] [-c CONNS] [-w WORKERS]
#                                        [--no-retry] [--max-retries N] [-n ENDPOINTS] [-d SECONDS]
#                                        [--seed N]
#   --part     which part to run (default all)
#   -s         kill: number of 1-second wrk slices, >= 2 (default 10; the kill is in slice s/2+1)
#   -c         kill: wrk connections (default 64)
#   -w         rwproxy --workers (default 1)
#   --no-retry kill: the route has no retry block (shows what clients see without retries)
#   --max-retries N  kill: add circuit_breakers {max_retries: N} to the cluster (default: not set,
#              i.e. rwproxy's default of 1024 concurrent retries proxy-wide)
#   -n         hc: number of health-checked endpoints (default 1000)
#   -d         hc: CPU measurement window in seconds (default 20)
#   --seed     seed for the victim / kill moment (bash RANDOM) and rwproxy --seed (default random)
set -euo pipefail
cd "$(dirname "$0")/../.."
cmdline="tests/bench/resilience_bench.sh${*:+ $*}"
part=all slices=10 conns=64 workers=1 retry=1 nendpoints=1000 duration=20 seed=0 max_retries=""
usage() { sed -n '/^# Usage/,/^set/p' "$0" | sed '$d'; exit 2; }
while (($#)); do
  case $1 in
    --part) part=${2:-} ;; -s) slices=${2:-} ;; -c) conns=${2:-} ;; -w) workers=${2:-} ;;
    -n) nendpoints=${2:-} ;; -d) duration=${2:-} ;; --seed) seed=${2:-} ;; --max-retries) max_retries=${2:-} ;;
    --no-retry) retry=0; shift; continue ;;
    *) usage ;;
  esac
  shift 2
done
[[ $part =~ ^(kill|hc|all)$ ]] || usage
for v in "$slices" "$conns" "$workers" "$nendpoints" "$duration" "$seed" "${max_retries:-0}"; do [[ $v =~ ^[0-9]+$ ]] || usage; done
((slices >= 2 && conns >= 1 && nendpoints >= 1 && duration >= 1)) || usage
((seed == 0)) && seed=$(( (RANDOM << 15 | RANDOM) + 1 ))
RANDOM=$seed

deploy/install-deps.sh --bench >/dev/null
for b in rwproxy rwupstream; do
  [[ -x build/bin/$b ]] || { cmake -S . -B build -G Ninja >/dev/null && cmake --build build --target rwproxy rwupstream; }
done
bin=$PWD/build/bin

# Health checks need one fd per endpoint connection (and the python server two per endpoint).
nofile=$(ulimit -Hn); [[ $nofile == unlimited ]] && nofile=1048576
ulimit -n "$nofile"
if [[ $part != kill ]] && ((2 * nendpoints + 200 > nofile)); then
  echo "-n $nendpoints needs ulimit -n > $((2 * nendpoints + 200)) (hard limit $nofile)" >&2; exit 2
fi

if (($(nproc) >= 2)); then pin_proxy=(taskset -c 0) pin_load=(taskset -c 1) pinning="rwproxy core 0, load+upstreams core 1"
else pin_proxy=() pin_load=() pinning="none (1 core)"; fi
hz=$(getconf CLK_TCK)

dir=$(mktemp -d /tmp/rwres.XXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- helpers -------------------------------------------------------------------------------------
addr() { awk -v k="$2" '$1==k{print $2}' "$1" 2>/dev/null; }
# wait_file FILE KEY [TRIES]: until FILE has a line "KEY ADDR" (0.1 s per try)
wait_file() { local _; for _ in $(seq 1 "${3:-100}"); do [[ -n $(addr "$1" "$2") ]] && return 0; sleep 0.1; done
              echo "no '$2' line in $1 (logs in $dir)" >&2; exit 1; }
# wait_ok URL [TRIES]: until URL answers 200 (0.1 s per try)
wait_ok() { local _; for _ in $(seq 1 "${2:-100}"); do curl -fs -o /dev/null -m 2 "$1" && return 0; sleep 0.1; done
            echo "not answering 200: $1 (logs in $dir)" >&2; exit 1; }
# cpu_ticks PID: utime+stime of the whole process (/proc/PID/stat fields 14+15)
cpu_ticks() { awk '{sub(/^.*\) /, ""); print $12 + $13}' "/proc/$1/stat"; }
now() { echo "$EPOCHREALTIME"; }
# stat_of FILE NAME: value of "cluster.app.NAME: V" in a saved /stats text
stat_of() { awk -v k="cluster.app.$2:" '$1==k{v=$2} END{print v+0}' "$1"; }
pct() { awk -v a="$1" -v b="$2" 'BEGIN{ if (b > 0) printf "%.1f", 100 * a / b; else print "n/a" }'; }
# start_proxy CONFIG NAME: starts rwproxy (pinned), sets rw_pid, rw_addr, rw_admin; waits for /ready
start_proxy() {
  "${pin_proxy[@]}" "$bin/rwproxy" --config "$1" --listen 127.0.0.1:0 --admin 127.0.0.1:0 --control off \
    --workers "$workers" --seed "$seed" --drain-timeout 1s --ports-file "$dir/$2.ports" 2>"$dir/$2.log" &
  rw_pid=$!; pids+=("$rw_pid")
  wait_file "$dir/$2.ports" admin 300
  rw_admin=$(addr "$dir/$2.ports" admin) rw_addr=$(addr "$dir/$2.ports" proxy)
  wait_ok "http://$rw_admin/ready" 300
}
stop_proxy() { kill "$rw_pid" 2>/dev/null || true; wait "$rw_pid" 2>/dev/null || true; }

summary=()   # "part|metric|measured|target|met"
row() { summary+=("$1|$2|$3|$4|$5"); }

echo "# $(date -u +%FT%TZ) $(nproc) cores, pinning: $pinning, workers=$workers, seed=$seed, CLK_TCK=$hz"
echo "# rwproxy $("$bin/rwproxy" --version 2>&1 | head -1), $(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2)," \
     "load average at start: $(uptime | sed 's/.*load average: //')"
echo "# logs and configs: $dir"

# ---- part 1: kill one upstream under load ----------------------------------------------------------
run_kill() {
  local i up_pids=() up_addrs=() names=()
  for i in 1 2 3; do
    "${pin_load[@]}" "$bin/rwupstream" --listen 127.0.0.1:0 --threads 1 --name "u$i" \
      --ports-file "$dir/u$i.ports" 2>"$dir/u$i.log" & up_pids+=($!); pids+=($!); names+=("u$i")
    disown $!   # no "Killed" job notice in the middle of the output (killed in cleanup by pid)
  done
  for i in 1 2 3; do
    wait_file "$dir/u$i.ports" upstream
    up_addrs+=("$(addr "$dir/u$i.ports" upstream)")
    wait_ok "http://${up_addrs[-1]}/healthz"
  done
  local retry_block="" breakers=""
  ((retry)) && retry_block="    retry: {on: [connect-failure, reset], max: 2}"
  [[ -n $max_retries ]] && breakers="    circuit_breakers: {max_retries: $max_retries}"
  cat > "$dir/kill.yaml" <<CONF
clusters:
  - name: app
    endpoints: ["${up_addrs[0]}", "${up_addrs[1]}", "${up_addrs[2]}"]
    health_check: {path: /healthz, interval: 1s, timeout: 500ms}
    outlier_detection: {consecutive_connect_failures: 1, consecutive_5xx: 5, base_ejection_time: 10s}
$breakers
routes:
  - name: api
    match: {path_regex: "^/api/(.*)\$"}
    rewrite: {path: "/\$1"}
    cluster: app
$retry_block
CONF
  start_proxy "$dir/kill.yaml" rwkill
  # all three endpoints healthy before the load starts
  for i in $(seq 1 100); do
    curl -fs "http://$rw_admin/stats" > "$dir/stats.now" || true
    (($(stat_of "$dir/stats.now" endpoints_healthy) == 3)) && break
    ((i < 100)) || { echo "endpoints not all healthy (logs in $dir)" >&2; exit 1; }
    sleep 0.1
  done
  wait_ok "http://$rw_addr/api/x"
  local url="http://$rw_addr/api/x"
  "${pin_load[@]}" wrk -t2 -c"$conns" -d1s "$url" > "$dir/warmup.out" 2>&1 || true

  # the killer: waits for the kill slice to start, then a random 0.00-0.90 s, then SIGKILL
  # RANDOM is drawn here, in this shell: a $(...) subshell reseeds it (not reproducible by --seed)
  local kill_slice=$((slices / 2 + 1)) victim=$((RANDOM % 3)) centis=$((RANDOM % 91)) offset
  offset=$(printf '0.%02d' "$centis")
  : > "$dir/slices"
  (
    for _ in $(seq 1 $((slices * 400 + 2000))); do   # bounded: 5 ms per try
      grep -qs "^$kill_slice " "$dir/slices" && break; sleep 0.005
    done
    grep -qs "^$kill_slice " "$dir/slices" || exit 1
    sleep "$offset"
    kill -9 "${up_pids[$victim]}" && now > "$dir/killed_at"
  ) & local killer=$!; pids+=("$killer")

  local s t0 ts te r0 r1 line
  curl -fs "http://$rw_admin/stats" > "$dir/stats.0"; r0=$(stat_of "$dir/stats.0" upstream_rq_retry)
  for s in $(seq 1 "$slices"); do
    ts=$(now); [[ $s == 1 ]] && t0=$ts
    echo "$s $ts" >> "$dir/slices"
    "${pin_load[@]}" wrk -t2 -c"$conns" -d1s "$url" > "$dir/slice$s.out" 2>&1 || true
    te=$(now)
    curl -fs "http://$rw_admin/stats" > "$dir/stats.$s" || true
    r1=$(stat_of "$dir/stats.$s" upstream_rq_retry)
    # slice start end req/s non2xx connect read write timeout retries
    line=$(awk -v s="$s" -v ts="$ts" -v te="$te" -v rt=$((r1 - r0)) '
      /Requests\/sec:/ {r = $2} /Non-2xx or 3xx responses:/ {n = $NF}
      /Socket errors:/ {gsub(",", ""); c = $4; rd = $6; w = $8; t = $10}
      END {printf "%d %s %s %.0f %d %d %d %d %d %d\n", s, ts, te, r, n, c, rd, w, t, rt}' "$dir/slice$s.out")
    echo "$line" >> "$dir/kill_results.txt"
    r0=$r1
  done
  wait "$killer" 2>/dev/null || true
  local killed_at=""
  [[ -s $dir/killed_at ]] && killed_at=$(<"$dir/killed_at")

  echo
  echo "## kill: 3 upstreams, wrk -t2 -c$conns, $slices x 1 s slices, retry: $( ((retry)) && echo "on [connect-failure, reset], max 2" || echo off)," \
       "circuit_breakers.max_retries: ${max_retries:-default}"
  if [[ -n $killed_at ]]; then
    echo "victim: ${names[$victim]} ${up_addrs[$victim]} (pid ${up_pids[$victim]}), SIGKILL at +$(awk -v a="$killed_at" -v b="$t0" 'BEGIN{printf "%.3f", a - b}') s" \
         "(slice $kill_slice started + ${offset} s)"
  else
    echo "victim: none killed (the killer did not run; see $dir)"
  fi
  printf '%5s %8s %8s %9s %7s %7s %6s %6s %8s %8s\n' slice start_s end_s req/s non2xx connect read write timeout retries
  awk -v t0="$t0" -v k="${killed_at:-0}" '{
      mark = (k > 0 && k >= $2 && k < $3) ? "  <- kill" : ""
      printf "%5d %8.3f %8.3f %9.0f %7d %7d %6d %6d %8d %8d%s\n", $1, $2 - t0, $3 - t0, $4, $5, $6, $7, $8, $9, $10, mark
    }' "$dir/kill_results.txt"
  local errors before after ratio last="$dir/stats.$slices"
  errors=$(awk '{e += $5 + $6 + $7 + $8 + $9} END{print e + 0}' "$dir/kill_results.txt")
  before=$(awk -v k="$kill_slice" '$1 < k {s += $4; n++} END{print (n ? s / n : 0)}' "$dir/kill_results.txt")
  after=$(awk -v k="$kill_slice" '$1 >= k {s += $4; n++} END{print (n ? s / n : 0)}' "$dir/kill_results.txt")
  ratio=$(pct "$after" "$before")
  printf 'client-visible errors (non-2xx + socket errors, all slices): %d   (target 0)\n' "$errors"
  printf 'throughput slices %d-%d vs 1-%d: %.0f vs %.0f req/s = %s%%   (target >= 90%%)\n' \
    "$kill_slice" "$slices" $((kill_slice - 1)) "$after" "$before" "$ratio"
  echo "rwproxy /stats after the last slice:"
  for k in upstream_rq_retry upstream_rq_retry_success upstream_rq_retry_overflow upstream_rq_retry_stale \
           outlier_ejections_total \
           outlier_ejections_active upstream_cx_connect_fail rq_total rq_5xx upstream_rq_bad_response \
           upstream_rq_overflow circuit_breaker_open health_check_failure endpoints_healthy; do
    printf '  %-28s %s\n' "$k" "$(stat_of "$last" "$k")"
  done
  echo "rwproxy /clusters?format=text:"
  curl -fs "http://$rw_admin/clusters?format=text" | sed 's/^/  /' || true
  local tag="kill$( ((retry)) || echo ' no-retry')${max_retries:+ max_retries=$max_retries}"
  row "$tag" "client errors (non-2xx + socket)" "$errors" "0" "$( ((errors == 0)) && echo yes || echo NO)"
  row "$tag" "req/s slices $kill_slice-$slices vs 1-$((kill_slice - 1))" "$ratio%" ">= 90%" \
      "$(awk -v r="$ratio" 'BEGIN{print (r != "n/a" && r >= 90) ? "yes" : "NO"}')"
  row "$tag" "upstream_rq_retry" "$(stat_of "$last" upstream_rq_retry)" "-" ""
  row "$tag" "upstream_rq_retry_overflow" "$(stat_of "$last" upstream_rq_retry_overflow)" "-" ""
  row "$tag" "outlier_ejections_total" "$(stat_of "$last" outlier_ejections_total)" "-" ""
  stop_proxy
  for i in 0 1 2; do kill "${up_pids[$i]}" 2>/dev/null || true; done
}

# ---- part 2: idle cost of health checks ------------------------------------------------------------
run_hc() {
  cat > "$dir/hc_server.py" <<'PY'
# N listeners on 127.0.0.1 (ephemeral ports, written one per line to PORTS_FILE once all listen),
# "HTTP/1.1 200 OK, Content-Length: 2, ok" keep-alive to every request; GET /__count answers
# "REQUESTS CONNECTIONS" accepted so far (itself not counted); on SIGTERM they go to PORTS_FILE.count.
import asyncio, os, signal, socket, sys

n, ports_file = int(sys.argv[1]), sys.argv[2]
count = conns = 0
REPLY = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"

async def handle(reader, writer):
    global count, conns
    conns += 1
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            if head.startswith(b"GET /__count "):
                conns -= 1
                body = b"%d %d\n" % (count, conns)
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s"
                             % (len(body), body))
                await writer.drain()
                break
            count += 1
            writer.write(REPLY)
            await writer.drain()
            if b"\r\nconnection: close" in head.lower():
                break
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError,
            asyncio.CancelledError):  # CancelledError: the shutdown after SIGTERM
        pass
    finally:
        writer.close()

async def main():
    socks = []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        s.listen(512)
        s.setblocking(False)
        socks.append(s)
    servers = [await asyncio.start_server(handle, sock=s) for s in socks]
    with open(ports_file + ".tmp", "w") as f:
        f.write("".join("%d\n" % s.getsockname()[1] for s in socks))
    os.rename(ports_file + ".tmp", ports_file)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    await stop.wait()
    with open(ports_file + ".count", "w") as f:
        f.write("%d %d\n" % (count, conns))
    for srv in servers:
        srv.close()

asyncio.run(main())
PY
  "${pin_load[@]}" python3 "$dir/hc_server.py" "$nendpoints" "$dir/hc.ports" 2>"$dir/hc_server.log" &
  local py=$! _; pids+=("$py")
  for _ in $(seq 1 300); do [[ -s $dir/hc.ports ]] && break; sleep 0.1; done
  [[ -s $dir/hc.ports ]] || { echo "python server did not start (see $dir/hc_server.log)" >&2; exit 1; }
  local first; first=$(head -1 "$dir/hc.ports")
  wait_ok "http://127.0.0.1:$first/__count"
  count() { curl -fs -m 5 "http://127.0.0.1:$first/__count" || echo 0 0; }

  local variant
  for variant in hc base; do
    {
      echo "clusters:"
      echo "  - name: app"
      echo "    endpoints:"
      awk '{print "      - \"127.0.0.1:" $1 "\""}' "$dir/hc.ports"
      [[ $variant == hc ]] && echo "    health_check: {path: /healthz, interval: 1s, timeout: 500ms}"
      echo "routes:"
      echo "  - name: all"
      echo "    match: {path_prefix: /}"
      echo "    cluster: app"
    } > "$dir/$variant.yaml"
    start_proxy "$dir/$variant.yaml" "rw$variant"
    sleep 3   # warm-up: the first round of checks, connections opened
    local c0 c1 n0 n1 k0 k1 w0 w1 p0 p1 s0 s1
    curl -fs "http://$rw_admin/stats" > "$dir/$variant.stats0" || true
    read -r c0 n0 < <(count); k0=$(cpu_ticks "$rw_pid"); p0=$(cpu_ticks "$py"); w0=$(now)
    sleep "$duration" & pids+=($!); wait $!   # (wait: a signal to this script is handled at once)
    read -r c1 n1 < <(count); k1=$(cpu_ticks "$rw_pid"); p1=$(cpu_ticks "$py"); w1=$(now)
    curl -fs "http://$rw_admin/stats" > "$dir/$variant.stats1" || true
    s0=$(stat_of "$dir/$variant.stats0" health_check_success); s1=$(stat_of "$dir/$variant.stats1" health_check_success)
    # variant cpu% checks/s(python) hc_success/s(rwproxy) python_cpu% healthy failures rss_kib threads
    #   window_s new_conns/s(python)
    awk -v v="$variant" -v k=$((k1 - k0)) -v p=$((p1 - p0)) -v hz="$hz" -v w0="$w0" -v w1="$w1" \
        -v c=$((c1 - c0)) -v nc=$((n1 - n0)) -v s=$((s1 - s0)) -v h="$(stat_of "$dir/$variant.stats1" endpoints_healthy)" \
        -v f="$(stat_of "$dir/$variant.stats1" health_check_failure)" \
        -v rss="$(awk '/^VmRSS/{print $2}' "/proc/$rw_pid/status")" \
        -v th="$(awk '/^Threads/{print $2}' "/proc/$rw_pid/status")" \
        'BEGIN { t = w1 - w0; printf "%s %.2f %.0f %.0f %.1f %d %d %d %d %.2f %.1f\n", v, 100 * k / hz / t, c / t,
                 s / t, 100 * p / hz / t, h, f, rss, th, t, nc / t }' >> "$dir/hc_results.txt"
    stop_proxy
  done

  echo
  echo "## hc: $nendpoints endpoints (one python asyncio process), health_check interval 1s timeout 500ms, no traffic, ${duration} s window after 3 s warm-up"
  printf '%-9s %9s %16s %16s %17s %12s %8s %8s %8s %8s\n' rwproxy cpu_%core 'checks/s(python)' 'new_conns/s(py)' \
    'hc_success/s(rw)' python_%core healthy hc_fail RSS_MiB threads
  awk '{printf "%-9s %9.2f %16.0f %16.1f %17.0f %12.1f %8s %8s %8.1f %8s\n", ($1 == "hc" ? "checks" : "baseline"), $2, $3,
        $11, $4, $5, ($1 == "hc" ? $6 : "-"), ($1 == "hc" ? $7 : "-"), $8 / 1024, $9}' "$dir/hc_results.txt"
  local with base cost
  with=$(awk '$1=="hc"{print $2}' "$dir/hc_results.txt"); base=$(awk '$1=="base"{print $2}' "$dir/hc_results.txt")
  cost=$(awk -v a="$with" -v b="$base" 'BEGIN{printf "%.2f", a - b}')
  printf 'health-check cost: %s%% - %s%% = %s%% of one core for %d endpoints   (target < 2%%)\n' "$with" "$base" "$cost" "$nendpoints"
  row hc "rwproxy CPU, $nendpoints endpoints checked" "$with%" "-" ""
  row hc "rwproxy CPU, baseline (no health_check)" "$base%" "-" ""
  row hc "health-check cost (difference)" "$cost%" "< 2% of a core" "$(awk -v c="$cost" 'BEGIN{print (c < 2) ? "yes" : "NO"}')"
  row hc "checks/s counted by the python server" "$(awk '$1=="hc"{print $3}' "$dir/hc_results.txt")" "~$nendpoints" ""
  kill "$py" 2>/dev/null || true; wait "$py" 2>/dev/null || true
}

[[ $part == kill || $part == all ]] && run_kill
[[ $part == hc || $part == all ]] && run_hc

echo
echo "# $cmdline"
printf '%-26s %-40s %10s %15s %4s\n' part metric measured target met
for r in "${summary[@]}"; do
  IFS='|' read -r a b c d e <<<"$r"
  printf '%-26s %-40s %10s %15s %4s\n' "$a" "$b" "$c" "$d" "$e"
done
