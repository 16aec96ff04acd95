#!/usr/bin/env bash
# Install what the tests use beyond the Rust toolchain, then run the whole test suite.
# Python tools go into a virtual environment under target/ (never a global pip install: PEP 668
# refuses those on stock Debian and Ubuntu).
set -euo pipefail
cd "$(dirname "$0")/.."

venv=${LEAKGATE_TOOLS_VENV:-target/tools-venv}
if [ ! -x "$venv/bin/pre-commit" ]; then
  python3 -m venv "$venv" || {
    echo "test.sh: python3 -m venv failed (on Debian: apt install python3-venv)" >&2
    exit 2
  }
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check pre-commit
fi
export PATH="$PWD/$venv/bin:$PATH"

# Tests that need an installed tool are #[ignore]d so a plain `cargo test` reports them ignored
# rather than passed; the tools are here now, so run them too.
cargo test --locked "$@" -- --include-ignored
