#!/usr/bin/env bash
# Hold leakgate to its own gate: scan this repository's working tree and its full history with
# the leakgate built from it, using the repository's .leakgate.toml.
#
#   scripts/self-scan.sh            build (if needed) and scan
#   LEAKGATE=path/to/leakgate scripts/self-scan.sh   use an already built binary
#
# Exit code: 0 both clean, 1 findings, 2 errors (the worse of the two scans).
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if [ -n "${LEAKGATE:-}" ]; then
  leakgate=("$LEAKGATE")
else
  # Build once, and find the binary wherever the target folder is.
  bin=$(cargo build --quiet --manifest-path "$root/Cargo.toml" --bin leakgate \
    --message-format=json-render-diagnostics |
    sed -n 's/.*"executable":"\([^"]*\)".*/\1/p' | tail -n 1)
  if [ -z "$bin" ]; then
    echo "self-scan: building leakgate failed" >&2
    exit 2
  fi
  leakgate=("$bin")
fi

status=0
scan() {
  local what=$1 code
  shift
  echo "== self-scan: $what"
  "${leakgate[@]}" scan --color never "$@"
  code=$?
  [ "$code" -le "$status" ] || status=$code
}

scan "working tree" "$root"
if git -C "$root" rev-parse --git-dir >/dev/null 2>&1; then
  scan "full history" --history "$root"
else
  echo "self-scan: $root is not a Git repository; history not scanned" >&2
  [ "$status" -ge 2 ] || status=2
fi

case "$status" in
  0) echo "self-scan: clean" ;;
  1) echo "self-scan: secrets found" >&2 ;;
  *) echo "self-scan: error (exit $status)" >&2 ;;
esac
exit "$status"
