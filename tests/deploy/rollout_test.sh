#!/usr/bin/env bash
# deploy/k8s/rollout.sh against two real rwproxy processes, with a fake kubectl that maps
# "kubectl exec POD -c rwproxy -- rwctl ..." to "rwctl --server <that proxy's control port> ...".
# Checks: a good file reaches every pod (exit 0); a rejected file changes no pod (exit 1); an
# unreachable pod makes the rollout fail (exit 1) while the others still get the file.
# Usage: tests/deploy/rollout_test.sh RWPROXY RWCTL
set -euo pipefail
[[ $# -eq 2 ]] || { echo "usage: $0 RWPROXY RWCTL" >&2; exit 2; }
rwproxy=$(realpath "$1")
rwctl=$(realpath "$2")
rollout=$(realpath "$(dirname "$0")/../../deploy/k8s/rollout.sh")
work=$(mktemp -d)
pod_names=(hello-a hello-b)
# shellcheck source=tests/deploy/fake_pods.sh
source "$(dirname "$0")/fake_pods.sh"

# 1. A good file reaches every pod.
write_routes "$work/good.yaml" 9090
out=$("$rollout" -l app=hello -m "test rollout" --configmap rwproxy-routes --timeout 5s \
        "$work/good.yaml" 2>&1) || fail "good rollout exited $?: $out"
echo "$out"
[[ $(grep -c 'applied version 2' <<<"$out") -eq 2 ]] || fail "want 'applied version 2' twice"
[[ $(grep -c 'serving version 2' <<<"$out") -eq 2 ]] || fail "want 'serving version 2' twice"
grep -q configmap-created "$work/configmap.log" || fail "--configmap did not update the ConfigMap"
for pod in hello-a hello-b; do
  [[ $(live_endpoint $pod) == 9090 ]] || fail "$pod does not serve good.yaml"
  "$rwctl" --server "$(cat "$work/$pod/control")" history | grep -q "test rollout" ||
    fail "$pod history lacks the -m message"
done
echo "PASS: good file applied and watched on both pods"

# 2. A rejected file changes nothing anywhere.
printf 'clusters: []\nroutes:\n  - name: x\n    match: {path_prefix: /}\n    cluster: nope\n' \
  >"$work/bad.yaml"
rc=0
out=$("$rollout" "$work/bad.yaml" 2>&1) || rc=$?
echo "$out"
((rc == 1)) || fail "bad rollout exited $rc, want 1"
grep -q "no pod was changed" <<<"$out" || fail "want 'no pod was changed'"
for pod in hello-a hello-b; do
  [[ $(live_endpoint $pod) == 9090 ]] || fail "$pod changed after a rejected rollout"
done
echo "PASS: rejected file: exit 1, no pod changed"

# 3. One pod unreachable: the other still gets the file, the rollout fails.
kill "$(cat "$work/hello-b/pid")"
wait "$(cat "$work/hello-b/pid")" 2>/dev/null || true
write_routes "$work/third.yaml" 7070
rc=0
out=$("$rollout" --timeout 2s "$work/third.yaml" 2>&1) || rc=$?
echo "$out"
((rc == 1)) || fail "rollout with an unreachable pod exited $rc, want 1"
grep -q "hello-b: FAILED" <<<"$out" || fail "want 'hello-b: FAILED'"
[[ $(live_endpoint hello-a) == 7070 ]] || fail "hello-a did not get third.yaml"
echo "PASS: unreachable pod: exit 1, the reachable pod updated"
