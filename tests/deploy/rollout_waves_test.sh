#!/usr/bin/env bash
# deploy/k8s/rollout.sh --waves / --guard against three real rwproxy processes, with a fake
# kubectl that maps "kubectl exec POD -c rwproxy -- rwctl ..." to "rwctl --server <that proxy's
# control port> ...". Checks: waves with a guard keep every pod and update the ConfigMap only at
# the end; an unreachable pod in wave 2 rolls wave 1 back and leaves the ConfigMap alone;
# --no-rollback leaves the changed pods; bad --waves / --guard are usage errors (exit 2).
# Usage: tests/deploy/rollout_waves_test.sh RWPROXY RWCTL
set -euo pipefail
[[ $# -eq 2 ]] || { echo "usage: $0 RWPROXY RWCTL" >&2; exit 2; }
rwproxy=$(realpath "$1")
rwctl=$(realpath "$2")
rollout=$(realpath "$(dirname "$0")/../../deploy/k8s/rollout.sh")
work=$(mktemp -d)
pod_names=(hello-a hello-b hello-c)
# shellcheck source=tests/deploy/fake_pods.sh
source "$(dirname "$0")/fake_pods.sh"

# W1. Waves with a guard: every pod kept, wave by wave; the ConfigMap only at the end.
write_routes "$work/good.yaml" 9090
out=$("$rollout" --waves 1,100% --guard 1s --configmap rwproxy-routes "$work/good.yaml" 2>&1) ||
  fail "waves rollout exited $?: $out"
echo "$out"
grep -q "rollout: wave 1 of 2: hello-a$" <<<"$out" || fail "want wave 1 = hello-a"
grep -q "rollout: wave 2 of 2: hello-b hello-c$" <<<"$out" || fail "want wave 2 = hello-b hello-c"
[[ $(grep -c 'applied version 2; guard 1s: kept' <<<"$out") -eq 3 ]] || fail "want 3 kept"
grep -q configmap-created "$work/configmap.log" || fail "ConfigMap not updated"
for pod in hello-a hello-b hello-c; do [[ $(live_endpoint $pod) == 9090 ]] || fail "$pod"; done
echo "PASS: waves + guard: all kept"

# W2. hello-c unreachable: wave 2 fails, hello-a and hello-b go back to 9090; no ConfigMap update.
kill "$(cat "$work/hello-c/pid")"; wait "$(cat "$work/hello-c/pid")" 2>/dev/null || true
rm -f "$work/configmap.log"
write_routes "$work/third.yaml" 7070
rc=0; out=$("$rollout" --waves 1,100% --configmap rwproxy-routes "$work/third.yaml" 2>&1) || rc=$?
echo "$out"
((rc == 1)) || fail "exit $rc, want 1"
grep -q "hello-c: FAILED" <<<"$out" || fail "want hello-c FAILED"
grep -q "hello-a: rolled back to version 2: applied version 4" <<<"$out" || fail "want hello-a rolled back"
for pod in hello-a hello-b; do [[ $(live_endpoint $pod) == 9090 ]] || fail "$pod not rolled back"; done
[[ ! -e "$work/configmap.log" ]] || fail "ConfigMap updated by a failed rollout"
echo "PASS: failed wave rolled back"

# W3. --no-rollback leaves them; a bad --waves is a usage error.
rc=0; out=$("$rollout" --waves 1,100% --no-rollback "$work/third.yaml" 2>&1) || rc=$?
((rc == 1)) || fail "exit $rc, want 1"
grep -q "no-rollback: 2 pod(s) keep the new config" <<<"$out" || fail "want --no-rollback note: $out"
for pod in hello-a hello-b; do [[ $(live_endpoint $pod) == 7070 ]] || fail "$pod rolled back"; done
rc=0; "$rollout" --waves 2,1 "$work/third.yaml" >/dev/null 2>&1 || rc=$?; ((rc == 2)) || fail "bad waves: $rc"
rc=0; "$rollout" --guard 5x "$work/third.yaml" >/dev/null 2>&1 || rc=$?; ((rc == 2)) || fail "bad guard: $rc"
echo "PASS: --no-rollback, usage errors"
