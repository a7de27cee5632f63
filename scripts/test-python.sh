#!/usr/bin/env bash
# Builds the Python package (crates/chainrule-py) into a venv under target/
# and runs its tests (tests/python, pytest). Needs python3 (>= 3.10, with
# venv) and cargo; everything else comes from PyPI.
#   scripts/test-python.sh            build, install, clippy, test
#   PYTEST_ARGS="-k seed" scripts/test-python.sh
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
venv="$root/target/python-venv"
py="${PYTHON:-python3}"
if [ ! -x "$venv/bin/python" ]; then
    "$py" -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --upgrade pip
"$venv/bin/python" -m pip install --quiet "maturin>=1.5,<2" pytest numpy nbclient nbformat ipykernel
# The extension is its own cargo workspace (see its Cargo.toml); it shares
# the main target dir so that chainrule's build is reused.
export CARGO_TARGET_DIR="$root/target"
cargo clippy --manifest-path crates/chainrule-py/Cargo.toml --release --all-targets -- -D warnings
cargo fmt --manifest-path crates/chainrule-py/Cargo.toml -- --check
# Build the wheel and install it (what `pip install ./crates/chainrule-py` does).
rm -rf "$root/target/wheels/chainrule-"*.whl
"$venv/bin/maturin" build --release --manifest-path crates/chainrule-py/Cargo.toml \
    --interpreter "$venv/bin/python" --out "$root/target/wheels" --quiet
"$venv/bin/python" -m pip install --quiet --force-reinstall --no-deps "$root"/target/wheels/chainrule-*.whl
set +e
(cd "$root/tests/python" && "$venv/bin/python" -m pytest -q ${PYTEST_ARGS:-})
rc=$?
set -e
if [ "$rc" -eq 5 ]; then
    echo "test-python: pytest collected no tests" >&2
    exit 1
fi
exit "$rc"
