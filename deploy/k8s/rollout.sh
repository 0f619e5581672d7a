#!/usr/bin/env bash
# Pushes a routes.yaml to the rwproxy sidecar of every pod matching a label selector, the Kubernetes
# way: kubectl exec into the sidecar and pipe the file into `rwctl apply -` (the control API listens
# on the pod's loopback only), then waits until each sidecar serves the version it was given with
# `rwctl watch --until-version N`.
#
# Usage: deploy/k8s/rollout.sh [options] ROUTES.yaml
#   -l, --selector SEL     pods to update (default: app=hello)
#   -n, --namespace NS     namespace (default: the kubectl context's)
#   -c, --container NAME   the sidecar container (default: rwproxy)
#   -m, --message TEXT     history description (default: "rollout <git short hash or epoch>")
#   --configmap NAME       first update ConfigMap NAME (key routes.yaml) from the file, so pods
#                          created later start from the same config (e.g. rwproxy-routes)
#   --timeout DUR          rwctl watch timeout per pod (default: 30s)
#   -h, --help             this text
# Steps: a dry run on the first pod (server-side validation: nothing changes anywhere if the file is
# rejected), then apply on every pod, then watch every pod. Each kubectl exec is bounded by
# `timeout`. Exit 0 when every pod serves its new version, 1 if any pod failed, 2 on usage errors.
set -euo pipefail
((BASH_VERSINFO[0] >= 5 || (BASH_VERSINFO[0] == 4 && BASH_VERSINFO[1] >= 4))) ||
  { echo "rollout: needs bash >= 4.4" >&2; exit 2; }

usage() { awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"; }
selector="app=hello"
container="rwproxy"
message="rollout $(git rev-parse --short HEAD 2>/dev/null || date +%s)"
configmap=""
watch_timeout="30s"
ns_args=()
file=""
while (($#)); do
  case "$1" in
    -l|--selector) selector=${2:?}; shift ;;
    -n|--namespace) ns_args=(-n "${2:?}"); shift ;;
    -c|--container) container=${2:?}; shift ;;
    -m|--message) message=${2:?}; shift ;;
    --configmap) configmap=${2:?}; shift ;;
    --timeout) watch_timeout=${2:?}; shift ;;
    -h|--help) usage; exit 0 ;;
    -*) echo "rollout: unknown option '$1'" >&2; usage >&2; exit 2 ;;
    *) [[ -z "$file" ]] || { echo "rollout: one file only" >&2; exit 2; }; file=$1 ;;
  esac
  shift
done
[[ -n "$file" ]] || { usage >&2; exit 2; }
[[ -r "$file" ]] || { echo "rollout: cannot read $file" >&2; exit 2; }
if [[ ! "$watch_timeout" =~ ^[0-9]+(ms|s|m)$ ]]; then
  echo "rollout: --timeout: '$watch_timeout' is not a duration like 30s" >&2
  exit 2
fi
command -v kubectl >/dev/null || { echo "rollout: kubectl not found" >&2; exit 2; }

# Bounds for one kubectl exec: apply returns once every worker of the sidecar serves the config;
# watch returns by its own --timeout. Both get 30 s on top for kubectl itself.
case "$watch_timeout" in
  *ms) watch_seconds=$(( ${watch_timeout%ms} / 1000 + 1 )) ;;
  *s) watch_seconds=${watch_timeout%s} ;;
  *m) watch_seconds=$(( ${watch_timeout%m} * 60 )) ;;
esac
kx() {  # kx SECONDS POD ARGS...: run ARGS in the sidecar of POD, stdin passed through, bounded
  local limit=$1 pod=$2
  shift 2
  timeout "$limit" kubectl exec -i "${ns_args[@]}" "$pod" -c "$container" -- "$@"
}

listed=$(timeout 60 kubectl get pods "${ns_args[@]}" -l "$selector" \
           --field-selector=status.phase=Running -o name) ||
  { echo "rollout: kubectl get pods -l $selector failed" >&2; exit 1; }
mapfile -t pods < <(grep . <<<"$listed" || true)
((${#pods[@]})) || { echo "rollout: no running pods match -l $selector" >&2; exit 1; }
echo "rollout: ${#pods[@]} pod(s) match -l $selector: ${pods[*]#pod/}"

# 1. Validate once on a real sidecar (all of the server's checks, nothing changed).
if ! out=$(kx 60 "${pods[0]}" rwctl apply - --dry-run <"$file" 2>&1); then
  echo "$out" >&2
  echo "rollout: ${pods[0]#pod/} rejected $file (dry run); no pod was changed" >&2
  exit 1
fi
echo "rollout: $out"

# 2. Keep the ConfigMap in step, so new pods (and --watch-config) see the same file.
if [[ -n "$configmap" ]]; then
  kubectl create configmap "${ns_args[@]}" "$configmap" --from-file=routes.yaml="$file" \
    --dry-run=client -o yaml | kubectl apply "${ns_args[@]}" -f - >/dev/null
  echo "rollout: configmap/$configmap updated"
fi

# 3. Apply on every pod; remember the version each one printed ("applied version N" or
#    "unchanged, version N").
declare -A version=()
failed=0
for pod in "${pods[@]}"; do
  if out=$(kx 60 "$pod" rwctl apply - -m "$message" <"$file" 2>&1) &&
     v=$(grep -oE 'version [0-9]+$' <<<"$out" | grep -oE '[0-9]+$'); then
    version[$pod]=$v
    echo "  ${pod#pod/}: $out"
  else
    echo "  ${pod#pod/}: FAILED: ${out//$'\n'/ }" >&2
    failed=1
  fi
done

# 4. Wait until every pod that took the file serves at least its version.
for pod in "${pods[@]}"; do
  [[ -n "${version[$pod]:-}" ]] || continue
  if kx $((watch_seconds + 30)) "$pod" rwctl watch --until-version "${version[$pod]}" \
       --timeout "$watch_timeout" </dev/null >/dev/null 2>&1; then
    echo "  ${pod#pod/}: serving version ${version[$pod]}"
  else
    echo "  ${pod#pod/}: FAILED: did not reach version ${version[$pod]} within $watch_timeout" >&2
    failed=1
  fi
done
if ((failed)); then echo "rollout: some pods failed (see above)" >&2; exit 1; fi
echo "rollout: all ${#pods[@]} pod(s) serve the new config"
