#!/usr/bin/env bash
# Builds the rwproxy image (deploy/Dockerfile) without any container registry and checks it from the
# inside. Slow (it compiles the proxy inside the image build), so it is not part of tests/run.sh.
#
#   1. installs podman, debootstrap, curl and python3 with apt-get if missing;
#   2. makes a Debian 12 base image, rwproxy-base:bookworm, with
#        debootstrap --variant=minbase bookworm DIR MIRROR && tar -C DIR -c . | podman import - NAME
#      using the mirror this machine's apt uses (reused if the image exists; --rebuild-base redoes it);
#   3. podman build --isolation=chroot --build-arg BASE=rwproxy-base:bookworm -t rwproxy:test .
#      and prints the image size;
#   4. containers cannot run here (no cgroups), so it mounts the image (podman image mount) and runs
#      its binaries with chroot, as the image's user (10001): rwproxy --version, rwctl --help, every
#      shared library resolved, then a smoke run: rwproxy inside the image filesystem in front of an
#      upstream started outside it (the chroot shares the network namespace), one request through it
#      with curl, rwctl get over the control port, and SIGTERM drain (/ready 503, exit 0).
#
# Usage: sudo deploy/image-test.sh [--rebuild-base] [--skip-build] [--jobs N]
#   --rebuild-base  make rwproxy-base:bookworm again even if it exists
#   --skip-build    check the existing rwproxy:test instead of building it (iterating on the checks)
#   --jobs N        build parallelism inside the image build (default 2, or $JOBS)
# Prints one PASS line per check; exits non-zero at the first failure. Needs root (debootstrap,
# image mount, chroot).
set -euo pipefail
cd "$(dirname "$0")/.."

BASE_IMAGE=rwproxy-base:bookworm
IMAGE=rwproxy:test
JOBS=${JOBS:-2}
rebuild_base=0
skip_build=0
usage() { awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"; }
while (($#)); do
  case "$1" in
    --rebuild-base) rebuild_base=1 ;;
    --skip-build) skip_build=1 ;;
    --jobs) [[ $# -ge 2 && "$2" =~ ^[0-9]+$ ]] || { usage >&2; exit 2; }; JOBS=$2; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "image-test: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
  esac
  shift
done
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null && exec sudo --preserve-env=JOBS "$0" "$@"
  echo "image-test: needs root (debootstrap, podman image mount, chroot)" >&2; exit 2
fi

pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*" >&2; exit 1; }
step() { echo "== $*"; }

# ---- 1. tools ----------------------------------------------------------------------------------
missing=()
for p in podman debootstrap curl python3; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  step "installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
PYTHON=/usr/bin/python3

# ---- 2. base image -----------------------------------------------------------------------------
# "URI SUITE" for every enabled deb source of this machine (one-line and deb822 formats).
apt_sources() {
  local f
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [[ -f "$f" ]] || continue
    awk '$1 == "deb" { i = 2; if ($i ~ /^\[/) { while (i < NF && $i !~ /\]$/) i++; i++ }
                       print $i, $(i + 1) }' "$f"
  done
  for f in /etc/apt/sources.list.d/*.sources; do
    [[ -f "$f" ]] || continue
    awk 'function flush() { if (deb && enabled) for (u in uris) for (s in suites) print uris[u], suites[s]
                            deb = 0; enabled = 1; delete uris; delete suites }
         BEGIN { enabled = 1 }
         /^[ \t]*#/ { next }
         /^[ \t]*$/ { flush(); next }
         tolower($1) == "types:"   { for (i = 2; i <= NF; i++) if ($i == "deb") deb = 1 }
         tolower($1) == "enabled:" { enabled = (tolower($2) != "no") }
         tolower($1) == "uris:"    { for (i = 2; i <= NF; i++) uris[i] = $i }
         tolower($1) == "suites:"  { for (i = 2; i <= NF; i++) suites[i] = $i }
         END { flush() }' "$f"
  done
}

make_base() {
  local sources mirror dir
  sources=$(apt_sources | awk '$2 ~ /^bookworm(-updates|-security)?$/' | sort -u)
  mirror=$(awk '$2 == "bookworm" { print $1; exit }' <<<"$sources")
  [[ -n "$mirror" ]] || fail "no 'bookworm' source in /etc/apt/sources.list{,.d}: cannot pick a mirror"
  dir=$(mktemp -d /var/tmp/rwproxy-base.XXXXXX)
  step "debootstrap --variant=minbase bookworm $dir $mirror (a few minutes)"
  if ! debootstrap --variant=minbase bookworm "$dir" "$mirror" >"$dir.log" 2>&1; then
    tail -n 20 "$dir.log" >&2
    fail "debootstrap (log: $dir.log)"
  fi
  # The same suites as this machine (bookworm, -updates, -security), so the image gets the same
  # package versions the code is built and tested with here.
  awk '{ print "deb " $1 " " $2 " main" }' <<<"$sources" >"$dir/etc/apt/sources.list"
  # Slim like debian:bookworm-slim: no docs (copyright files stay), man pages or translations,
  # now and for every later apt-get install.
  cat >"$dir/etc/dpkg/dpkg.cfg.d/slim" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/locale/*
EOF
  find "$dir/usr/share/doc" -type f ! -name copyright -delete
  find "$dir/usr/share/doc" -mindepth 1 -type d -empty -delete
  rm -rf "$dir"/usr/share/{man,groff,info,lintian,linda,locale}/*
  rm -rf "$dir"/var/cache/apt/archives/*.deb "$dir"/var/cache/apt/*.bin "$dir"/var/lib/apt/lists/*
  rm -rf "$dir"/var/log/apt/* "$dir"/var/log/dpkg.log "$dir"/var/log/bootstrap.log
  local m
  for m in dev/pts dev proc sys; do  # debootstrap unmounts these itself; make sure before rm -rf
    if mountpoint -q "$dir/$m"; then umount "$dir/$m"; fi
  done
  tar -C "$dir" -c . | podman import - "$BASE_IMAGE" >/dev/null
  rm -rf --one-file-system "$dir" "$dir.log"
}

if ((rebuild_base)) && podman image exists "$BASE_IMAGE"; then  # untag if images still use it
  podman rmi "$BASE_IMAGE" >/dev/null 2>&1 || podman untag "$BASE_IMAGE"
fi
if podman image exists "$BASE_IMAGE"; then
  step "reusing $BASE_IMAGE (--rebuild-base makes it again)"
else
  make_base
fi
pass "base image $BASE_IMAGE ($(podman image inspect "$BASE_IMAGE" --format '{{.Size}}') bytes)"

# ---- 3. image build ----------------------------------------------------------------------------
if ((skip_build)); then
  podman image exists "$IMAGE" || fail "--skip-build: there is no $IMAGE yet"
  step "--skip-build: checking the existing $IMAGE"
else
  step "podman build --isolation=chroot --build-arg BASE=$BASE_IMAGE -t $IMAGE (compiles rwproxy, -j$JOBS)"
  podman build --isolation=chroot --pull=never --build-arg BASE="$BASE_IMAGE" \
    --build-arg JOBS="$JOBS" -f deploy/Dockerfile -t "$IMAGE" . || fail "podman build"
fi
size=$(podman image inspect "$IMAGE" --format '{{.Size}}')
base_size=$(podman image inspect "$BASE_IMAGE" --format '{{.Size}}')
pass "image $IMAGE: $size bytes ($((size / 1000000)) MB; $(((size - base_size) / 1000000)) MB on top of the base)"
podman images --format '{{.Repository}}:{{.Tag}}  {{.Size}}' | grep -E 'rwproxy(-base)?' || true

config=$(podman image inspect "$IMAGE" --format \
  'user={{.Config.User}} entrypoint={{json .Config.Entrypoint}} ports={{json .Config.ExposedPorts}}')
echo "  $config"
[[ "$config" == *'user=10001:10001 '* ]] || fail "image user is not 10001:10001"
[[ "$config" == *'entrypoint=["rwproxy"]'* ]] || fail "entrypoint is not [\"rwproxy\"]"
for port in 15000 15001 15010; do
  [[ "$config" == *"\"$port/tcp\""* ]] || fail "image does not expose $port"
done
pass "image config: user 10001, ENTRYPOINT [\"rwproxy\"], EXPOSE 15000 15001 15010"

# ---- 4. run the image's binaries with chroot ---------------------------------------------------
work=$(mktemp -d /tmp/rwproxy-image-test.XXXXXX)
mnt=""
mounted=()  # mount points inside $mnt, unmounted in reverse order
proxy_pid=""
upstream_pid=""
cleanup() {
  local rc=$? i
  for pid in $proxy_pid $upstream_pid; do kill "$pid" 2>/dev/null || true; done
  for pid in $proxy_pid $upstream_pid; do wait "$pid" 2>/dev/null || true; done
  for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do umount "${mounted[i]}" || rc=1; done
  if [[ -n "$mnt" ]]; then podman image unmount "$IMAGE" >/dev/null || rc=1; fi
  rm -rf --one-file-system "$work"  # only bind sources live here, never a mount point
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mnt=$(podman image mount "$IMAGE") || fail "podman image mount $IMAGE"
[[ -d "$mnt/usr/local/bin" ]] || fail "image mount $mnt has no /usr/local/bin"
bind() {  # bind SRC TARGET-inside-image
  mount --bind "$1" "$mnt$2"
  mounted+=("$mnt$2")
}
# The image's rootfs is a read-only mount: give it what a container runtime would (/dev, /proc, a
# writable /tmp and a writable state dir) by bind mounts on top; nothing in the image changes.
mkdir -p "$work/tmp" "$work/state"
chmod 1777 "$work/tmp"
chown 10001:10001 "$work/state"
bind /dev /dev
mount -t proc proc "$mnt/proc"
mounted+=("$mnt/proc")
bind "$work/tmp" /tmp
bind "$work/state" /var/lib/rwproxy
# Run a command inside the image filesystem as the image's user with a clean environment.
chroot_bin=$(command -v chroot)
in_image() {
  env -i PATH=/usr/local/bin:/usr/bin:/bin HOME=/var/lib/rwproxy \
    "$chroot_bin" --userspec=10001:10001 "$mnt" "$@"
}

out=$(in_image rwproxy --version 2>&1) || fail "rwproxy --version: $out"
pass "rwproxy --version: $out"
out=$(in_image rwctl --help 2>&1) || fail "rwctl --help: $out"
[[ "$out" == *apply* ]] || fail "rwctl --help does not list 'apply': $out"
pass "rwctl --help (rwctl found on PATH, $(wc -l <<<"$out") lines)"
for bin in rwproxy rwctl; do
  out=$(in_image ldd "/usr/local/bin/$bin" 2>&1) || fail "ldd $bin: $out"
  if grep -q "not found" <<<"$out"; then fail "$bin: missing libraries: $(grep 'not found' <<<"$out")"; fi
done
pass "every shared library of rwproxy and rwctl resolves inside the image"
echo "  binaries: $(cd "$mnt/usr/local/bin" && du -h rwproxy rwctl | tr '\t\n' ': ')"

# Smoke run. Upstream: a tiny HTTP/1.1 server outside the image on a free loopback port.
cat >"$work/upstream.py" <<'PY'
import http.server, os, sys
class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        body = ("image-smoke upstream saw %s\n" % self.path).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write("%d\n" % server.server_address[1])
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
server.serve_forever()
PY
"$PYTHON" "$work/upstream.py" "$work/upstream.port" 2>"$work/upstream.log" &
upstream_pid=$!
wait_for_file() {  # wait_for_file FILE PID: up to 10 s, while PID lives
  for _ in $(seq 1 100); do
    [[ -s "$1" ]] && return 0
    kill -0 "$2" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}
wait_for_file "$work/upstream.port" "$upstream_pid" || fail "upstream did not start: $(cat "$work/upstream.log")"
upstream_port=$(cat "$work/upstream.port")

cat >"$work/tmp/routes.yaml" <<EOF
clusters:
  - name: app
    endpoints: ["127.0.0.1:$upstream_port"]
routes:
  - name: api
    match: {path_regex: "^/api/(.*)\$"}
    rewrite: {path: "/\$1"}
    cluster: app
    timeout: 5s
EOF
chmod 644 "$work/tmp/routes.yaml"
# Port 0 everywhere: rwproxy writes the ports it bound to the ports file. Not through in_image: a
# backgrounded function runs in a subshell, and $! must be rwproxy itself (env and chroot exec it).
env -i PATH=/usr/local/bin:/usr/bin:/bin HOME=/var/lib/rwproxy \
  "$chroot_bin" --userspec=10001:10001 "$mnt" \
  rwproxy --config /tmp/routes.yaml --listen 127.0.0.1:0 --admin 127.0.0.1:0 \
  --control 127.0.0.1:0 --workers 2 --state-dir /var/lib/rwproxy --drain-timeout 3s \
  --ports-file /tmp/ports 2>"$work/proxy.log" &
proxy_pid=$!
wait_for_file "$work/tmp/ports" "$proxy_pid" || fail "rwproxy did not start: $(cat "$work/proxy.log")"
[[ "$(cat "/proc/$proxy_pid/comm")" == rwproxy ]] || fail "pid $proxy_pid is not rwproxy"
proxy=$(awk '$1 == "proxy" { print $2 }' "$work/tmp/ports")
admin=$(awk '$1 == "admin" { print $2 }' "$work/tmp/ports")
control=$(awk '$1 == "control" { print $2 }' "$work/tmp/ports")
[[ -n "$proxy" && -n "$admin" && -n "$control" ]] || fail "ports file: $(cat "$work/tmp/ports")"
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://$admin/ready") || true
[[ "$code" == 200 ]] || fail "GET /ready on $admin: $code"
pass "rwproxy from the image serves (proxy $proxy, admin $admin, control $control, /ready 200)"

body=$(curl -s --max-time 5 -w '\n%{http_code}' "http://$proxy/api/hello?x=1") || fail "curl through the proxy"
code=${body##*$'\n'}
body=${body%$'\n'*}
body=${body%$'\n'}  # the upstream's own trailing newline
[[ "$code" == 200 ]] || fail "GET /api/hello?x=1 through the proxy: status $code, body: $body"
[[ "$body" == "image-smoke upstream saw /hello?x=1" ]] || fail "unexpected upstream answer: $body"
pass "request through the proxy: 200, rewritten /api/hello?x=1 -> upstream saw /hello?x=1"

out=$(in_image rwctl --server "$control" --timeout 5s get 2>&1) || fail "rwctl get: $out"
[[ "$out" == *"127.0.0.1:$upstream_port"* ]] || fail "rwctl get does not show the live config: $out"
pass "rwctl get over the control API: $(head -n 1 <<<"$out")"
[[ -n "$(ls -A "$work/state")" ]] || fail "--state-dir /var/lib/rwproxy stayed empty"
pass "state dir written by uid 10001: $(cd "$work/state" && ls | tr '\n' ' ')"

kill -TERM "$proxy_pid"
code=""
for _ in $(seq 1 20); do
  code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "http://$admin/ready") || true
  [[ "$code" == 503 ]] && break
  sleep 0.1
done
[[ "$code" == 503 ]] || fail "after SIGTERM /ready answered '$code', want 503"
for _ in $(seq 1 100); do kill -0 "$proxy_pid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$proxy_pid" 2>/dev/null && fail "rwproxy still running 10 s after SIGTERM (drain 3s)"
rc=0
wait "$proxy_pid" || rc=$?
proxy_pid=""
((rc == 0)) || fail "rwproxy exited $rc after SIGTERM: $(tail -n 5 "$work/proxy.log")"
pass "SIGTERM: /ready 503 at once, exit 0 after the drain timeout"
echo "image-test: all checks passed; $IMAGE is $((size / 1000000)) MB ($((size / 1024 / 1024)) MiB)"
