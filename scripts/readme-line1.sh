#!/usr/bin/env bash
# Runs README.md's first line exactly as a newcomer would (set up and run edgeos), waits until the
# machine is a Ready node, then stops it. CI runs this before the test line, so the suite is proven
# on a host where `edgeos server` has run and left /etc/edgeos and /var/lib/edgeos behind: no test
# may depend on the host's own edgeos state (issue 12, point 9).
set -euo pipefail
cd "$(dirname "$0")/.."

line1=$(sed -n 1p README.md)
log=${EDGEOS_LINE1_LOG:-/tmp/edgeos-readme-line1.log}
kubeconfig=/etc/edgeos/kubeconfig.yaml
say() { printf '\033[1m[readme line 1]\033[0m %s\n' "$*"; }

say "$line1   (log: $log)"
# A session of its own, so that stopping it reaches npm, node and everything they started.
setsid bash -c "$line1" >"$log" 2>&1 &
leader=$!
stop() {
  kill -TERM -- "-$leader" 2>/dev/null || true
  for _ in $(seq 1 60); do kill -0 -- "-$leader" 2>/dev/null || return 0; sleep 0.5; done
  say "still running 30 s after SIGTERM; killing"
  kill -KILL -- "-$leader" 2>/dev/null || true
}
trap stop EXIT

deadline=$((SECONDS + ${EDGEOS_LINE1_TIMEOUT:-600}))
# The agent's own "started" line, not only a Ready node: a host that ran line 1 before keeps the old
# node object, which reads Ready for a while whether or not this run's agent came up.
until grep -q '"msg":"agent started"' "$log" && kubectl --kubeconfig "$kubeconfig" --request-timeout=5s get nodes 2>/dev/null | grep -q ' Ready '; do
  if ! kill -0 "$leader" 2>/dev/null; then
    tail -n 40 "$log" >&2
    say "line 1 exited before the node was Ready (see $log)"; exit 1
  fi
  if [ "$SECONDS" -ge "$deadline" ]; then
    tail -n 40 "$log" >&2
    say "the node was not Ready in time (see $log)"; exit 1
  fi
  sleep 2
done
kubectl --kubeconfig "$kubeconfig" get nodes
stop
trap - EXIT
say "stopped; /etc/edgeos and /var/lib/edgeos stay, as they would on a newcomer's host"
