#!/usr/bin/env bash
# Install what the tests use beyond the Rust toolchain, then run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."

# The pre-commit framework drives the hook test.
if ! command -v pre-commit >/dev/null 2>&1; then
  python3 -m pip install --quiet --disable-pip-version-check pre-commit
fi
# pip may install console scripts outside PATH (user installs).
export PATH="$PATH:$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))'):$HOME/.local/bin"

cargo test --locked "$@"
