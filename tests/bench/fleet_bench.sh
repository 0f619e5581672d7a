#!/usr/bin/env bash
# Fleet push benchmark, run by hand (never in CI). Everything on 127.0.0.1, one run:
#   starts P rwproxy processes (default 50, each --workers 1, own ports file, one shared rwupstream),
#   waits until all are ready, then pushes one config to the first 10, 25 and P with a single
#   `rwctl apply FILE --server A --server B ...` (R repetitions each, alternating two variants so that
#   every push changes every target's config): median and max wall time per fleet size, and a check
#   that every target reported `applied version N` and rwctl exited 0. Then, for all P, the wall
#   time until `rwctl watch --until-version N` has returned for every target (launched concurrently).
# With -s (issue #11's scale matrix) it instead pushes, for ROUTES in {10, 1,000} and for
#   {no waves, --waves 1,10%,100% --guard 2s}, one config to all P sidecars (default 200) with one
#   `rwctl apply --servers-file`, R times each: wall time until rwctl returned (every target applied,
#   and with waves every guard verdict in), rwctl's own CPU (utime+stime) and max RSS (getrusage of
#   the child), and targets applied (or kept) / exit code. The guard needs a server with guarded
#   applies; an older one makes the waves rows fail at wave 1 ("did not take the guard").
# Usage: tests/bench/fleet_bench.sh [-p PROXIES] [-r REPETITIONS] [-R ROUTES_PER_CONFIG] [-s]
#   e.g. tests/bench/fleet_bench.sh -s -p 200 -r 3   (issue #11: 200 sidecars; needs ~4 GB RAM)
set -euo pipefail
cd "$(dirname "$0")/../.."
nproxy="" reps=3 nroutes=10 scale=0
while getopts "p:r:R:s" o; do
  case $o in p) nproxy=$OPTARG ;; r) reps=$OPTARG ;; R) nroutes=$OPTARG ;; s) scale=1 ;; *) exit 2 ;; esac
done
[[ -n $nproxy ]] || { ((scale)) && nproxy=200 || nproxy=50; }
command -v curl >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq curl; }
for b in rwproxy rwctl rwupstream; do
  [[ -x build/bin/$b ]] || cmake --build build --target rwproxy rwctl rwupstream -j2
done
bin=$PWD/build/bin
dir=$(mktemp -d /tmp/rwfleet.XXXX)
pids=()
# Only the processes this script started, by pid.
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
            for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
now_us() { local t=$EPOCHREALTIME; echo "${t/./}"; }
ms_since() { echo "$1 $(now_us)" | awk '{printf "%.1f", ($2 - $1) / 1000}'; }
addr() { awk -v k="$2" '$1==k{print $2}' "$1"; }

echo "# $(date -u +%FT%TZ) $(nproc) cores; load average at start: $(uptime | sed 's/.*load average: //')"
"$bin/rwupstream" --listen 127.0.0.1:0 --threads 1 --ports-file "$dir/up.ports" 2>"$dir/up.log" & pids+=($!)
for _ in $(seq 1 100); do [[ -s $dir/up.ports ]] && break; sleep 0.1; done
up=$(addr "$dir/up.ports" upstream)

# gen VARIANT FILE [ROUTES]: ROUTES (default nroutes) routes (regex and prefix rewrites), targets
# depend on VARIANT.
gen() {
  awk -v n="${3:-$nroutes}" -v v="$1" -v up="$up" 'BEGIN {
    print "clusters:\n  - name: app\n    endpoints: [\"" up "\"]\nroutes:"
    print "  - name: api\n    match: {path_regex: \"^/api/(.*)$\"}\n    rewrite: {path: \"/" v "/$1\"}\n    cluster: app"
    for (i = 1; i < n; i++) {
      if (i % 2) printf "  - name: re%d\n    match: {path_regex: \"^/r%d/([a-z]+)/(.*)$\"}\n    rewrite: {path: \"/%s/%d/$2?k=$1\"}\n    cluster: app\n", i, i, v, i
      else       printf "  - name: px%d\n    match: {path_prefix: /p%d/}\n    rewrite: {prefix: \"/%s%d/\"}\n    cluster: app\n", i, i, v, i
    } }' > "$2"
}
for v in start a b; do gen "$v" "$dir/$v.yaml"; done

# ---- start the fleet ---------------------------------------------------------------------------
t0=$(now_us); proxy_pids=()
for i in $(seq 1 "$nproxy"); do
  "$bin/rwproxy" --config "$dir/start.yaml" --listen 127.0.0.1:0 --admin 127.0.0.1:0 --control 127.0.0.1:0 \
    --workers 1 --drain-timeout 1s --ports-file "$dir/p$i.ports" 2>"$dir/p$i.log" & pids+=($!); proxy_pids+=($!)
done
controls=()
for i in $(seq 1 "$nproxy"); do
  for _ in $(seq 1 300); do grep -qs '^control ' "$dir/p$i.ports" && break; sleep 0.1; done
  admin=$(addr "$dir/p$i.ports" admin)
  for _ in $(seq 1 300); do [[ $(curl -s -o /dev/null -w '%{http_code}' "http://$admin/ready") == 200 ]] && break; sleep 0.1; done
  [[ $(curl -s -o /dev/null -w '%{http_code}' "http://$admin/ready") == 200 ]] || { echo "proxy $i not ready" >&2; exit 1; }
  controls+=("$(addr "$dir/p$i.ports" control)")
done
echo "$nproxy rwproxy processes ready in $(ms_since "$t0") ms; config: $nroutes routes ($(stat -c %s "$dir/a.yaml") bytes)"
mem() { local rss=0 pss=0 p
        for p in "${proxy_pids[@]}"; do
          rss=$((rss + $(awk '/^VmRSS/{print $2}' "/proc/$p/status")))
          pss=$((pss + $(awk '/^Pss:/{print $2}' "/proc/$p/smaps_rollup")))
        done
        awk -v r="$rss" -v p="$pss" -v n="$nproxy" 'BEGIN{printf "RSS total %.0f MiB (%.1f per proxy), PSS total %.0f MiB", r/1024, r/1024/n, p/1024}'; }
echo "memory after start: $(mem); MemAvailable $(awk '/MemAvailable/{printf "%.0f MiB", $2/1024}' /proc/meminfo)"

# ---- issue #11 scale matrix (-s) -----------------------------------------------------------------
# measure OUT CMD...: runs CMD with stdout+stderr to OUT; prints "WALL_MS CPU_MS MAXRSS_KB RC"
# (getrusage(RUSAGE_CHILDREN) of the one child: rwctl's own CPU and peak RSS).
measure() {
  python3 - "$@" <<'PY'
import resource, subprocess, sys, time
out = open(sys.argv[1], "w")
t = time.monotonic()
rc = subprocess.call(sys.argv[2:], stdout=out, stderr=subprocess.STDOUT)
wall = (time.monotonic() - t) * 1000
r = resource.getrusage(resource.RUSAGE_CHILDREN)
print("%.0f %.0f %d %d" % (wall, (r.ru_utime + r.ru_stime) * 1000, r.ru_maxrss, rc))
PY
}
if ((scale)); then
  printf '%s\n' "${controls[@]}" > "$dir/servers"
  printf '\n%-7s %-26s %4s %10s %10s %10s %10s  %s\n' routes mode reps wall_ms_med wall_ms_max \
    cpu_ms_med rss_mib_max "targets ok / exit codes"
  k=0
  for r in 10 1000; do
    for v in a b; do gen "$v$r" "$dir/s$v$r.yaml" "$r"; done
    for mode in plain waves; do
      wargs=(); [[ $mode == waves ]] && wargs=(--waves 1,10%,100% --guard 2s)
      : > "$dir/scale.$r.$mode"; codes=() okall=0
      for _ in $(seq 1 "$reps"); do
        k=$((k + 1)); v=a; ((k % 2 == 0)) && v=b
        read -r wall cpu rss rc < <(measure "$dir/scale$k.out" "$bin/rwctl" apply "$dir/s$v$r.yaml" \
          --servers-file "$dir/servers" --timeout 30s "${wargs[@]}")
        echo "$wall $cpu $rss" >> "$dir/scale.$r.$mode"
        codes+=("$rc")
        ok=$(grep -cE ': applied version [0-9]+(; guard [^:]*: kept.*)?$' "$dir/scale$k.out" || true)
        okall=$((okall + ok))
        ((rc == 0 && ok == nproxy)) ||
          { echo "push $k ($r routes, $mode): exit $rc, $ok/$nproxy ok:" >&2; tail -5 "$dir/scale$k.out" >&2; }
      done
      med() { sort -g | awk '{a[NR]=$1} END{print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
      printf '%-7s %-26s %4s %10s %10s %10s %10s  %s\n' "$r" \
        "$([[ $mode == waves ]] && echo "waves 1,10%,100% guard 2s" || echo "no waves")" "$reps" \
        "$(cut -d' ' -f1 "$dir/scale.$r.$mode" | med)" "$(cut -d' ' -f1 "$dir/scale.$r.$mode" | sort -g | tail -1)" \
        "$(cut -d' ' -f2 "$dir/scale.$r.$mode" | med)" \
        "$(cut -d' ' -f3 "$dir/scale.$r.$mode" | sort -g | tail -1 | awk '{printf "%.1f", $1/1024}')" \
        "$okall/$((nproxy * reps)), exit ${codes[*]}"
    done
  done
  echo "memory at end: $(mem)"
  echo "load average at end: $(uptime | sed 's/.*load average: //'); raw: $dir"
  exit 0
fi

# ---- fleet pushes ------------------------------------------------------------------------------
sizes=(10 25 "$nproxy"); k=0
printf '\n%-6s %4s %12s %12s %12s  %s\n' fleet reps median_ms max_ms min_ms "targets applied / exit codes"
for n in "${sizes[@]}"; do
  ((n <= nproxy)) || continue
  args=(); for s in "${controls[@]:0:n}"; do args+=(--server "$s"); done
  : > "$dir/wall$n"; codes=() okall=0
  for r in $(seq 1 "$reps"); do
    k=$((k + 1)); v=a; ((k % 2 == 0)) && v=b
    t0=$(now_us); rc=0
    "$bin/rwctl" apply "$dir/$v.yaml" "${args[@]}" > "$dir/push$k.out" 2>&1 || rc=$?
    ms_since "$t0" >> "$dir/wall$n"; echo >> "$dir/wall$n"
    codes+=("$rc")
    ok=$(grep -c ': applied version [0-9]*$' "$dir/push$k.out" || true)
    okall=$((okall + ok))
    ((rc == 0 && ok == n)) || { echo "push $k to $n: exit $rc, $ok/$n applied:" >&2; cat "$dir/push$k.out" >&2; }
  done
  sort -g "$dir/wall$n" | awk 'NF' > "$dir/wall$n.s"
  printf '%-6s %4s %12s %12s %12s  %s\n' "$n" "$reps" \
    "$(awk '{a[NR]=$1} END{print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}' "$dir/wall$n.s")" \
    "$(tail -1 "$dir/wall$n.s")" "$(head -1 "$dir/wall$n.s")" "$okall/$((n * reps)), exit ${codes[*]}"
done
last=$dir/push$k.out

# ---- watch --until-version for all targets (after the last push, which went to all) -------------
t0=$(now_us); wpids=()
while read -r server _ _ version; do
  "$bin/rwctl" watch --server "${server%:}" --until-version "$version" --timeout 30s \
    > "$dir/watch.${server%:}.out" 2>&1 & wpids+=($!)
done < <(grep ': applied version ' "$last")
wfail=0; for p in "${wpids[@]}"; do wait "$p" || wfail=$((wfail + 1)); done
wall=$(ms_since "$t0")
s1=${controls[0]}; v1=$(awk -v s="$s1:" '$1==s{print $4}' "$last")
t0=$(now_us); "$bin/rwctl" watch --server "$s1" --until-version "$v1" --timeout 30s >/dev/null; one=$(ms_since "$t0")
echo
echo "watch --until-version for all ${#wpids[@]} targets (concurrent rwctl processes): $wall ms wall, $wfail failed;" \
     "one watch alone: $one ms"
echo "memory at end: $(mem)"
echo "load average at end: $(uptime | sed 's/.*load average: //'); raw: $dir"
