#!/usr/bin/env bash
# Run the whole test suite, then the tests that need something beyond the Rust toolchain, each
# where what it needs is here. A plain `cargo test` lists those tests as ignored; so does this
# script when what they need is missing (it says which), except under CI=true, where a missing
# tool fails the run. Arguments go to the first `cargo test` (e.g. `--test it scan_tree::`).
# Python tools go into a virtual environment under target/ (never a global pip install: PEP 668
# refuses those on stock Debian and Ubuntu).
set -euo pipefail
cd "$(dirname "$0")/.."

# What is missing: fatal under CI, otherwise named and its tests stay ignored.
missing() {
  if [ "${CI:-}" = true ]; then
    echo "test.sh: $1 (required under CI=true)" >&2
    exit 2
  fi
  echo "test.sh: $1: its tests stay ignored" >&2
}

venv=${LEAKGATE_TOOLS_VENV:-target/tools-venv}
case $venv in /*) ;; *) venv=$PWD/$venv ;; esac
if [ ! -x "$venv/bin/pre-commit" ]; then
  if ! python3 -m venv "$venv"; then
    echo "test.sh: python3 -m venv failed (on Debian: apt install python3-venv)" >&2
  elif ! "$venv/bin/python" -m pip install --quiet --disable-pip-version-check pre-commit; then
    echo "test.sh: pip install pre-commit failed" >&2
  fi
fi

# Each ignored test, by the name filter of what it needs (found before the long run, so CI fails
# fast). Every ignored test must match one.
filters=()
skips=()
if [ -x "$venv/bin/pre-commit" ]; then
  export PATH="$venv/bin:$PATH"
  filters+=(precommit::)
  # The python hook's test installs the wheel scripts/build-wheel.sh leaves in target/wheels.
  version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)
  if ! compgen -G "target/wheels/leakgate_cli-$version-*.whl" >/dev/null ||
    ! compgen -G "target/wheels/deps/setuptools-*.whl" >/dev/null; then
    missing "no leakgate-cli $version wheel in target/wheels (run scripts/build-wheel.sh)"
    skips+=(--skip precommit::python_hook)
  fi
else
  missing "the pre-commit framework is not installed"
fi
if python3 -c 'import socket; socket.socket(socket.AF_INET6).bind(("::1", 0))' 2>/dev/null; then
  filters+=(ipv6)
else
  missing "no IPv6 loopback"
fi

if command -v unzip >/dev/null 2>&1; then
  filters+=(_with_unzip)
else
  missing "unzip is not installed"
fi

# Benchmarks kept in the test binary for its loopback stand-ins are not tests: they assert
# nothing and are run by hand for the figures they print (serve::load: see its comment).
benchmarks='serve::load$'
known="^(precommit::|.*ipv6|.*_with_unzip|$benchmarks)"
unknown=$(cargo test --locked --quiet --test it -- --ignored --list --format terse 2>/dev/null |
  sed -n 's/: test$//p' | grep -Ev "$known" || true)
if [ -n "$unknown" ]; then
  echo "test.sh: ignored tests that this script does not know how to run:" >&2
  echo "$unknown" >&2
  exit 2
fi
cargo test --locked "$@"
if [ ${#filters[@]} -gt 0 ]; then
  cargo test --locked --test it -- --ignored "${filters[@]}" "${skips[@]}"
fi
