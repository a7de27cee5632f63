#!/usr/bin/env bash
# Check that chainrule-bench's checks agree with the peers' reference
# implementations (the hand-written NumPy/Python ones, SymEngine for W5/W6).
# Quick runs: this compares checks, not timings; the ratios it prints mean
# nothing unless the machine is idle.
#
#   scripts/bench-checks.sh [W1|…|W7|all]
#
#   CHAINRULE_PEERS   the peers' venv (default ~/.cache/chainrule-peers; see
#                     ../shared/bench/setup-peers.sh)
#   CHAINRULE_SHARED  the shared folder (default ../shared beside the repository)
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
shared="${CHAINRULE_SHARED:-$root/../shared}"
[ -d "$shared/bench" ] || shared="$root/../../shared"
python="${CHAINRULE_PEERS:-$HOME/.cache/chainrule-peers}/bin/python"
workload="${1:-all}"

ours="$(mktemp)"
theirs="$(mktemp)"
trap 'rm -f "$ours" "$theirs"' EXIT

cargo run --release -q -p chainrule-bench --manifest-path "$root/Cargo.toml" -- \
    --workload "$workload" --quick > "$ours"
for pair in W1:manual-python W2:manual-numpy W3:manual-numpy W4:manual-numpy \
            W5:symengine W6:symengine W7:manual-numpy; do
    name="${pair%%:*}"
    if [ "$workload" = all ] || [ "$workload" = "$name" ]; then
        "$python" "$shared/bench/peers.py" --workload "$name" --quick --impl "${pair#*:}" >> "$theirs"
    fi
done
python3 "$shared/bench/compare.py" --ours "$ours" --peers "$theirs"
