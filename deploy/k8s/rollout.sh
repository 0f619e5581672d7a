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
#   --guard DUR            guarded apply (e.g. 30s): each sidecar watches the new version's error
#                          ratio for DUR and reverts it by itself; a pod is done when its verdict
#                          is `kept` (rwctl apply --guard waits for it; a revert fails the pod)
#   --waves SPEC           push in cumulative waves, e.g. 1,10%,50%,100% (pod counts or whole
#                          percentages of the matching pods, rounded up): a wave starts only when
#                          every pod of the previous one is done; when a wave fails, no further
#                          wave starts and the pods already changed are rolled back (rwctl
#                          rollback PREVIOUS --expect-version NEW) to the versions they had
#   --no-rollback          with --waves: leave the pods already changed as they are
#   -h, --help             this text
# Steps: a dry run on the first pod (server-side validation: nothing changes anywhere if the file is
# rejected), then apply on every pod, then watch every pod. Each kubectl exec is bounded by
# `timeout`. Exit 0 when every pod serves its new version, 1 if any pod failed, 2 on usage errors.
# With --guard or --waves the pods of a wave (all pods: one wave) are applied concurrently, each
# `rwctl apply - --guard DUR` waiting for its verdict inside the sidecar.
set -euo pipefail
((BASH_VERSINFO[0] >= 5 || (BASH_VERSINFO[0] == 4 && BASH_VERSINFO[1] >= 4))) ||
  { echo "rollout: needs bash >= 4.4" >&2; exit 2; }

usage() { awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"; }
selector="app=hello"
container="rwproxy"
message="rollout $(git rev-parse --short HEAD 2>/dev/null || date +%s)"
configmap=""
watch_timeout="30s"
guard=""
waves=""
rollback=1
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
    --guard) guard=${2:?}; shift ;;
    --waves) waves=${2:?}; shift ;;
    --no-rollback) rollback=0 ;;
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
if [[ -n "$guard" && ! "$guard" =~ ^[1-9][0-9]*(s|m)$ ]]; then
  echo "rollout: --guard: '$guard' is not a duration like 30s or 2m" >&2
  exit 2
fi
if [[ -n "$waves" && ! "$waves" =~ ^[0-9]+%?(,[0-9]+%?)*$ ]]; then
  echo "rollout: --waves: '$waves' is not a list like 1,10%,50%,100%" >&2
  exit 2
fi
((rollback)) || [[ -n "$waves" ]] || { echo "rollout: --no-rollback needs --waves" >&2; exit 2; }
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
#    With --guard or --waves only once every wave succeeded: sidecars with --watch-config would
#    otherwise load the file from the ConfigMap, past the waves and the guard.
update_configmap() {
  [[ -n "$configmap" ]] || return 0
  kubectl create configmap "${ns_args[@]}" "$configmap" --from-file=routes.yaml="$file" \
    --dry-run=client -o yaml | kubectl apply "${ns_args[@]}" -f - >/dev/null
  echo "rollout: configmap/$configmap updated"
}
[[ -n "$guard" || -n "$waves" ]] || update_configmap

# wave_ends SPEC N: the cumulative end of each wave (as rwctl apply --waves): counts, or percentages
# of N rounded up, capped at N; waves that add no pod are dropped. Fails (exit 2) on a size of 0, a
# percentage above 100, a size smaller than the one before, or a last wave short of N.
wave_ends() {
  local item size last_size=0 last=0 end ends=()
  IFS=, read -ra items <<<"$1"
  for item in "${items[@]}"; do
    if [[ $item == *% ]]; then
      size=${item%\%}
      ((size >= 1 && size <= 100)) || { echo "rollout: --waves: '$item' is not in 1%..100%" >&2; return 2; }
      size=$(( (size * $2 + 99) / 100 ))
    else
      size=$item
      ((size >= 1)) || { echo "rollout: --waves: '$item': a wave has at least 1 pod" >&2; return 2; }
    fi
    ((size >= last_size)) || { echo "rollout: --waves: sizes are cumulative; '$item' is smaller than the wave before it" >&2; return 2; }
    last_size=$size
    end=$((size < $2 ? size : $2))
    ((end > last)) && ends+=("$end")
    last=$end
  done
  ((last == $2)) || { echo "rollout: --waves: the last wave reaches $last of $2 pods; end with 100%" >&2; return 2; }
  echo "${ends[@]}"
}

# Guarded and/or waves: each wave's pods concurrently; a pod is done when `rwctl apply` exits 0
# (kept with --guard). A failed wave stops the rollout and rolls back what it changed.
if [[ -n "$guard" || -n "$waves" ]]; then
  ends=$(wave_ends "${waves:-100%}" "${#pods[@]}") || exit 2
  read -ra ends <<<"$ends"
  apply_args=(apply - -m "$message")
  apply_limit=60
  if [[ -n "$guard" ]]; then
    apply_args+=(--guard "$guard")
    case "$guard" in *s) g=${guard%s} ;; *m) g=$(( ${guard%m} * 60 )) ;; esac
    apply_limit=$(( 60 + g + (g / 10 > 10 ? g / 10 : 10) ))  # rwctl's own verdict bound + 60 s
  fi
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  declare -A before=() applied=()
  changed=() begin=0 failed_wave=0
  for w in "${!ends[@]}"; do
    wave_pods=("${pods[@]:begin:ends[w]-begin}")
    echo "rollout: wave $((w + 1)) of ${#ends[@]}: ${wave_pods[*]#pod/}"
    jobs_pids=()
    for pod in "${wave_pods[@]}"; do
      (
        f="$tmp/${pod#pod/}"
        # The live version first, to roll back to.
        kx 60 "$pod" rwctl version -o json </dev/null 2>/dev/null |
          grep -oE '"config_version":[0-9]+' | grep -oE '[0-9]+$' >"$f.before" || true
        rc=0
        kx "$apply_limit" "$pod" rwctl "${apply_args[@]}" <"$file" >"$f.out" 2>&1 || rc=$?
        echo "$rc" >"$f.rc"
      ) & jobs_pids+=($!)
    done
    for p in "${jobs_pids[@]}"; do wait "$p" || true; done
    for pod in "${wave_pods[@]}"; do
      f="$tmp/${pod#pod/}"
      out=$(cat "$f.out")
      before[$pod]=$(cat "$f.before" 2>/dev/null || true)
      v=$(grep -oE '^applied version [0-9]+' <<<"$out" | grep -oE '[0-9]+$' || true)
      # Changed by this rollout and not already reverted by its own guard: may need a rollback.
      if [[ -n "$v" ]] && ! grep -q 'guard: reverted' <<<"$out"; then
        applied[$pod]=$v
        changed+=("$pod")
      fi
      if [[ $(cat "$f.rc") == 0 ]]; then
        echo "  ${pod#pod/}: $out"
      else
        echo "  ${pod#pod/}: FAILED: ${out//$'\n'/ }" >&2
        failed_wave=$((w + 1))
      fi
    done
    begin=${ends[w]}
    ((failed_wave == 0)) || break
  done
  if ((failed_wave)); then
    echo "rollout: wave $failed_wave failed; $((${#pods[@]} - begin)) pod(s) not pushed" >&2
    if ((rollback)); then
      for pod in "${changed[@]}"; do
        if [[ -z "${before[$pod]}" ]]; then
          echo "  ${pod#pod/}: NOT rolled back: its version before the rollout is unknown" >&2
        elif out=$(kx 60 "$pod" rwctl rollback "${before[$pod]}" --expect-version "${applied[$pod]}" \
                     -m "rollout: wave $failed_wave failed" </dev/null 2>&1); then
          echo "  ${pod#pod/}: $out"
        else
          echo "  ${pod#pod/}: rollback FAILED: ${out//$'\n'/ }" >&2
        fi
      done
    elif ((${#changed[@]})); then
      echo "rollout: --no-rollback: ${#changed[@]} pod(s) keep the new config" >&2
    fi
    exit 1
  fi
  update_configmap
  echo "rollout: all ${#pods[@]} pod(s) serve the new config${guard:+ (guard $guard: kept)}"
  exit 0
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
