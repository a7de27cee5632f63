#!/usr/bin/env bash
# The README's performance table, measured: for each workload in turn, the
# chainrule-bench lines and then the peers' lines (peers.py), one right after
# the other on the same machine, collected in docs/bench/ (ours.jsonl,
# peers.jsonl) and paired by ../shared/bench/compare.py into compare.txt.
# Run it on an otherwise idle machine; it takes about a quarter of an hour.
#
#   scripts/bench-table.sh [W1 W2 ...]      (default: W1 to W9)
#
# Naming workloads re-measures just those: their old lines are replaced and
# the others kept.
#
#   CHAINRULE_PEERS   the peers' venv (default ~/.cache/chainrule-peers; see
#                     ../shared/bench/setup-peers.sh)
#   CHAINRULE_SHARED  the shared folder (default ../shared beside the repository)
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
shared="${CHAINRULE_SHARED:-$root/../shared}"
[ -d "$shared/bench" ] || shared="$root/../../shared"
python="${CHAINRULE_PEERS:-$HOME/.cache/chainrule-peers}/bin/python"
out="$root/docs/bench"
workloads=("$@")
[ ${#workloads[@]} -gt 0 ] || workloads=(W1 W2 W3 W4 W5 W6 W7 W8 W9)

cargo build --release -q -p chainrule-bench --manifest-path "$root/Cargo.toml"
bench="$root/target/release/chainrule-bench"
mkdir -p "$out"
if [ $# -eq 0 ]; then
    : > "$out/ours.jsonl"
    : > "$out/peers.jsonl"
fi
for w in "${workloads[@]}"; do
    for f in ours peers; do
        touch "$out/$f.jsonl"
        grep -v "\"workload\": \"$w\"" "$out/$f.jsonl" > "$out/$f.tmp" || true
        mv "$out/$f.tmp" "$out/$f.jsonl"
    done
    echo "== $w" >&2
    "$bench" --workload "$w" | grep '^{' >> "$out/ours.jsonl"
    "$python" "$shared/bench/peers.py" --workload "$w" | grep '^{' >> "$out/peers.jsonl"
done
python3 "$shared/bench/compare.py" --ours "$out/ours.jsonl" --peers "$out/peers.jsonl" \
    > "$out/compare.txt"
cat "$out/compare.txt"
