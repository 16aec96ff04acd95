#!/usr/bin/env bash
# Install leakgate for the GitHub Action (action.yml), on Linux, macOS and Windows (Git Bash).
#
#   action-install.sh plan     decide whether to build: sets the step outputs `install`
#                              (true/false), `root` (install folder) and `cache-key`
#   action-install.sh install  build into $LEAKGATE_INSTALL_ROOT unless a cached build is there,
#                              and put its bin folder on the job's PATH
#
# A leakgate of the action's own version already on PATH is used as is.
set -euo pipefail

action_path=${GITHUB_ACTION_PATH:?GITHUB_ACTION_PATH is not set}

# The action's version: the first `version = "..."` line of Cargo.toml, the [package] one.
want_version() {
  sed -n 's/^version *= *"\([^"]*\)".*/\1/p' "$action_path/Cargo.toml" | head -n 1
}

# SHA-256 of standard input, in hex, with whichever tool the runner has.
sha256() {
  if command -v sha256sum >/dev/null 2>&1; then
    sha256sum | cut -d ' ' -f 1
  elif command -v shasum >/dev/null 2>&1; then
    shasum -a 256 | cut -d ' ' -f 1
  else
    openssl dgst -sha256 | sed 's/.*= *//'
  fi
}

# Hash of what the build depends on: the lockfile first, then the sources, so a new commit of
# the action never reuses an old build. (`hashFiles()` only sees the workspace, not the action.)
source_hash() {
  (
    cd "$action_path"
    { find Cargo.toml Cargo.lock build.rs src rules -type f 2>/dev/null || true; } | LC_ALL=C sort |
      while IFS= read -r f; do
        printf '%s\n' "$f"
        cat "$f"
      done
  ) | sha256
}

set_output() {
  printf '%s=%s\n' "$1" "$2" >>"${GITHUB_OUTPUT:-/dev/null}"
}

plan() {
  local want have=""
  want=$(want_version)
  if command -v leakgate >/dev/null 2>&1; then
    have=$(leakgate --version 2>/dev/null | sed -n 's/^leakgate \([^ ]*\).*/\1/p' | head -n 1) || have=""
  fi
  if [ -n "$have" ] && [ "$have" = "$want" ]; then
    echo "Using leakgate $have from $(command -v leakgate)"
    set_output install false
    return
  fi
  if [ -n "$have" ]; then
    echo "leakgate $have on PATH is not this action's version ($want); building $want"
  fi
  local lock_hash all_hash
  lock_hash=$(sha256 <"$action_path/Cargo.lock")
  all_hash=$(source_hash)
  set_output install true
  set_output root "${RUNNER_TEMP:-${TMPDIR:-/tmp}}/leakgate-$want"
  set_output cache-key "leakgate-${RUNNER_OS:-os}-${RUNNER_ARCH:-arch}-$want-${lock_hash:0:16}-${all_hash:0:16}"
}

install() {
  local root=${LEAKGATE_INSTALL_ROOT:?LEAKGATE_INSTALL_ROOT is not set}
  if [ -f "$root/bin/leakgate" ] || [ -f "$root/bin/leakgate.exe" ]; then
    echo "Using the cached build in $root"
  else
    if ! command -v cargo >/dev/null 2>&1; then
      echo "::error title=leakgate::cargo is not on PATH; set up Rust (for example with dtolnay/rust-toolchain) before this action"
      exit 1
    fi
    cargo install --locked --path "$action_path" --root "$root"
  fi
  echo "$root/bin" >>"${GITHUB_PATH:-/dev/null}"
  "$root/bin/leakgate" --version
}

case "${1:-}" in
  plan) plan ;;
  install) install ;;
  *)
    echo "usage: $0 plan|install" >&2
    exit 2
    ;;
esac
