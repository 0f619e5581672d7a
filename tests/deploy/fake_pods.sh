# Sourced by the rollout.sh tests: starts one real rwproxy per name in "${pod_names[@]}" (on
# loopback, each with its own --state-dir, on $work/initial.yaml: endpoint 127.0.0.1:8080), and
# puts a fake kubectl first in PATH that maps "kubectl exec POD -c rwproxy -- rwctl ..." to
# "rwctl --server <that proxy's control port> ...", "kubectl get pods" to the pod names, and logs
# ConfigMap updates to $work/configmap.log. Needs: rwproxy, rwctl, work, pod_names. Defines:
# pids (stopped by pid on exit), fail, write_routes FILE PORT, live_endpoint POD.
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

write_routes() {  # write_routes FILE ENDPOINT-PORT
  cat >"$1" <<EOF
clusters:
  - name: app
    endpoints: ["127.0.0.1:$2"]
routes:
  - name: all
    match: {path_prefix: /}
    cluster: app
EOF
}
write_routes "$work/initial.yaml" 8080
echo "${pod_names[*]}" >"$work/pods"
for pod in "${pod_names[@]}"; do
  mkdir -p "$work/$pod"
  "$rwproxy" --config "$work/initial.yaml" --listen 127.0.0.1:0 --admin 127.0.0.1:0 \
    --control 127.0.0.1:0 --workers 1 --drain-timeout 1s --state-dir "$work/$pod/state" \
    --ports-file "$work/$pod/ports" 2>"$work/$pod/log" &
  pids+=($!)
  echo $! >"$work/$pod/pid"
done
for pod in "${pod_names[@]}"; do
  for _ in $(seq 1 100); do [[ -s "$work/$pod/ports" ]] && break; sleep 0.1; done
  [[ -s "$work/$pod/ports" ]] || fail "$pod did not start: $(cat "$work/$pod/log")"
  awk '$1 == "control" { print $2 }' "$work/$pod/ports" >"$work/$pod/control"
done

# The fake kubectl: just enough of get pods / exec / create configmap / apply for rollout.sh.
mkdir -p "$work/bin"
cat >"$work/bin/kubectl" <<EOF
#!/usr/bin/env bash
set -euo pipefail
work="$work"
rwctl="$rwctl"
EOF
cat >>"$work/bin/kubectl" <<'EOF'
echo "kubectl $*" >>"$work/kubectl.log"
case "$1" in
  get) for pod in $(cat "$work/pods"); do echo "pod/$pod"; done ;;
  exec)
    shift
    pod=""
    while [[ "$1" != "--" ]]; do
      case "$1" in
        -i) ;;
        -n|-c) shift ;;
        *) pod=${1#pod/} ;;
      esac
      shift
    done
    shift  # --
    [[ "$1" == rwctl ]] || { echo "fake kubectl: only rwctl" >&2; exit 2; }
    shift
    exec "$rwctl" --server "$(cat "$work/$pod/control")" "$@"
    ;;
  create) echo "configmap-created" >>"$work/configmap.log"; echo "kind: ConfigMap" ;;
  apply) cat >>"$work/configmap.log" ;;
  *) echo "fake kubectl: unsupported: $*" >&2; exit 2 ;;
esac
EOF
chmod +x "$work/bin/kubectl"
export PATH="$work/bin:$PATH"

live_endpoint() {  # live_endpoint POD: the endpoint port the pod's live config uses
  "$rwctl" --server "$(cat "$work/$1/control")" get | grep -oE '127\.0\.0\.1:[0-9]+' | cut -d: -f2
}

