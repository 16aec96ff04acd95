#!/usr/bin/env bash
# Build the leakgate-cli wheel (python/pyproject.toml: maturin's `bin` bindings, the release
# profile), install it into a fresh virtual environment, and check that the installed
# `leakgate --version` runs and prints Cargo.toml's version.
#
#   scripts/build-wheel.sh                          the release profile (what ships)
#   LEAKGATE_WHEEL_PROFILE=dev scripts/build-wheel.sh   reuses the test build's target/debug
#     (.ci/run does this: the same packaging, without a cold 10-minute release build)
#
# Leaves the wheel at target/wheels/leakgate_cli-<version>-*.whl (the only one there) and, in
# target/wheels/deps/, the wheel of setuptools: what pip needs to build the root's pre-commit
# shim, so tests/it/precommit.rs can install the hook with no package index at all (and so
# provably from this wheel). maturin and pip run in virtual environments under target/, never a
# global pip. The cargo build reuses target/release when it is up to date.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never

say() { echo "build-wheel: $*"; }
fail() {
  echo "build-wheel: $*" >&2
  exit 1
}

version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)
[ -n "$version" ] || fail "no version in Cargo.toml"

tools=${LEAKGATE_PKG_VENV:-target/pkg-venv}
case $tools in /*) ;; *) tools=$PWD/$tools ;; esac
if [ ! -x "$tools/bin/maturin" ]; then
  python3 -m venv "$tools" || fail "python3 -m venv failed (on Debian: apt install python3-venv)"
  "$tools/bin/python" -m pip install --quiet --disable-pip-version-check "maturin>=1.5,<2" ||
    fail "pip install maturin failed"
fi

out=$PWD/target/wheels
mkdir -p "$out"
rm -f "$out"/leakgate_cli-*.whl
start=$(date +%s)
profile=${LEAKGATE_WHEEL_PROFILE:-release}
(cd python && "$tools/bin/maturin" build --profile "$profile" --locked --out "$out")
built=$(($(date +%s) - start))
shopt -s nullglob
wheels=("$out"/leakgate_cli-"$version"-*.whl)
[ ${#wheels[@]} -eq 1 ] || fail "expected one leakgate_cli-$version wheel in $out, found ${#wheels[@]}"
wheel=${wheels[0]}
say "built $(basename "$wheel") ($(du -k "$wheel" | cut -f1) KiB, $profile profile) in ${built}s"

# A fresh environment, the wheel alone: no index, so nothing else can stand in for it.
check=target/wheel-check-venv
rm -rf "$check"
python3 -m venv "$check"
start=$(date +%s)
"$check/bin/python" -m pip install --quiet --disable-pip-version-check --no-index "$wheel"
say "installed in $(($(date +%s) - start))s"
got=$("$check/bin/leakgate" --version)
[ "$got" = "leakgate $version" ] || fail "installed leakgate --version printed '$got', expected 'leakgate $version'"
say "installed $check/bin/leakgate: $got"

# For the pre-commit hook test: the build backend of the root's shim, as a wheel.
"$tools/bin/python" -m pip download --quiet --disable-pip-version-check --only-binary=:all: \
  --dest "$out/deps" "setuptools>=61" || fail "pip download setuptools failed"
