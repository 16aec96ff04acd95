#!/usr/bin/env bash
# The scanning steps of the leakgate GitHub Action (action.yml). Runs under bash 3.2 and later
# (macOS), Git Bash (Windows) and Linux; reads the event payload with jq or Python when present.
#
#   action-scan.sh scan   pick what to scan from the event and the `mode` input, run leakgate
#                         with SARIF output, and set the step outputs `findings`, `sarif-file`,
#                         `exit-code`, `scanned` and `range`. Exits 0 when leakgate ran, whatever
#                         it found, so the SARIF upload runs; `gate` decides the job's fate.
#   action-scan.sh gate   fail on findings (unless fail-on-findings is false) and on errors.
#
# Inputs come as INPUT_* environment variables (see action.yml); the event as GITHUB_EVENT_NAME
# and GITHUB_EVENT_PATH, as the runner sets them.
set -uo pipefail

ZERO_SHA=0000000000000000000000000000000000000000

say() { printf '%s\n' "$*"; }
warn() { printf '::warning title=leakgate::%s\n' "$*"; }
fail() {
  printf '::error title=leakgate::%s\n' "$*"
  exit 2
}

set_output() {
  printf '%s=%s\n' "$1" "$2" >>"${GITHUB_OUTPUT:-/dev/null}"
}

truthy() {
  case "$(printf '%s' "${1:-}" | tr '[:upper:]' '[:lower:]')" in
    true | yes | on | 1) return 0 ;;
    *) return 1 ;;
  esac
}

# Print the value at a dotted path (e.g. pull_request.base.sha) of the event payload, or nothing.
event_field() {
  local path=$1 file=${GITHUB_EVENT_PATH:-} value py
  [ -n "$file" ] && [ -f "$file" ] || return 0
  if command -v jq >/dev/null 2>&1 &&
    value=$(jq -r --arg p "$path" 'getpath($p | split(".")) | if . == null then empty else tostring end' "$file" 2>/dev/null); then
    printf '%s\n' "$value"
    return 0
  fi
  for py in python3 python; do
    command -v "$py" >/dev/null 2>&1 || continue
    if value=$("$py" -c '
import json, sys
v = json.load(open(sys.argv[1], encoding="utf-8"))
for k in sys.argv[2].split("."):
    v = v.get(k) if isinstance(v, dict) else None
if v is not None:
    print(str(v).lower() if isinstance(v, bool) else v)
' "$file" "$path" 2>/dev/null); then
      printf '%s\n' "$value"
      return 0
    fi
  done
  # Neither: good enough for top-level strings and booleans (push: before, after, created).
  case "$path" in *.*) return 0 ;; esac
  tr -d '\r\n' <"$file" |
    grep -o "\"$path\"[[:space:]]*:[[:space:]]*\(\"[^\"]*\"\|true\|false\)" |
    head -n 1 | sed 's/^[^:]*:[[:space:]]*//; s/"//g'
}

has_commit() {
  git cat-file -e "$1^{commit}" 2>/dev/null
}

# Number of results in a SARIF file.
count_results() {
  local file=$1 n py
  [ -f "$file" ] || {
    echo 0
    return
  }
  if command -v jq >/dev/null 2>&1 && n=$(jq '[.runs[]?.results[]?] | length' "$file" 2>/dev/null) && [ -n "$n" ]; then
    echo "$n"
    return
  fi
  for py in python3 python; do
    command -v "$py" >/dev/null 2>&1 || continue
    if n=$("$py" -c '
import json, sys
doc = json.load(open(sys.argv[1], encoding="utf-8"))
print(sum(len(r.get("results") or []) for r in doc.get("runs") or []))
' "$file" 2>/dev/null) && [ -n "$n" ]; then
      echo "$n"
      return
    fi
  done
  grep -o '"ruleId"' "$file" | wc -l | tr -d ' '
}

# One annotation per result (at most 50), for runs where code scanning is off.
annotate() {
  local file=$1 py
  [ -f "$file" ] || return 0
  if command -v jq >/dev/null 2>&1; then
    jq -r 'limit(50; .runs[]?.results[]?
      | (.locations[0].physicalLocation // {}) as $p
      | "::error file=\($p.artifactLocation.uri // ""),line=\($p.region.startLine // 1),title=leakgate \(.ruleId)::\(.message.text // .ruleId | gsub("\n"; " "))")' \
      "$file" 2>/dev/null && return 0
  fi
  for py in python3 python; do
    command -v "$py" >/dev/null 2>&1 || continue
    "$py" -c '
import json, sys
doc = json.load(open(sys.argv[1], encoding="utf-8"))
results = [r for run in doc.get("runs") or [] for r in run.get("results") or []]
for r in results[:50]:
    loc = (r.get("locations") or [{}])[0].get("physicalLocation") or {}
    uri = (loc.get("artifactLocation") or {}).get("uri", "")
    line = (loc.get("region") or {}).get("startLine", 1)
    text = ((r.get("message") or {}).get("text") or r.get("ruleId", "")).replace("\n", " ")
    print("::error file=%s,line=%s,title=leakgate %s::%s" % (uri, line, r.get("ruleId", ""), text))
' "$file" 2>/dev/null && return 0
  done
  return 0
}

scan() {
  local mode=${INPUT_MODE:-auto} event=${GITHUB_EVENT_NAME:-}
  local sarif=${INPUT_SARIF_FILE:-leakgate.sarif}
  [ -n "$sarif" ] || sarif=leakgate.sarif
  cd "${GITHUB_WORKSPACE:-.}" || fail "cannot enter the workspace ${GITHUB_WORKSPACE:-}"
  # Set first, so the upload step has a path even if the scan cannot run.
  set_output sarif-file "$sarif"

  case "$mode" in
    auto | history | range | tree) ;;
    *) fail "mode must be auto, history, range or tree, not '$mode'" ;;
  esac

  # What the event says should be scanned.
  local base="" head="" why="" trusted=""
  if [ "$mode" = auto ] || [ "$mode" = range ]; then
    case "$event" in
      pull_request | pull_request_target | pull_request_review | pull_request_review_comment)
        base=$(event_field pull_request.base.sha)
        head=$(event_field pull_request.head.sha)
        [ -n "$base" ] || why="could not read pull_request.base.sha from the event payload"
        ;;
      merge_group)
        base=$(event_field merge_group.base_sha)
        head=$(event_field merge_group.head_sha)
        [ -n "$base" ] || why="could not read merge_group.base_sha from the event payload"
        ;;
      push)
        local before after created
        before=$(event_field before)
        after=$(event_field after)
        created=$(event_field created)
        if [ -z "$before" ]; then
          why="could not read 'before' from the push payload"
        elif [ "$before" = "$ZERO_SHA" ] || [ "$created" = true ]; then
          say "A new branch or tag: scanning the full history."
          # The gate's config comes from the default branch, not from the new branch itself.
          local default_branch pushed
          default_branch=$(event_field repository.default_branch)
          pushed=$(event_field ref)
          if [ -n "$default_branch" ] && [ "$pushed" != "refs/heads/$default_branch" ]; then
            local rev
            for rev in "refs/remotes/origin/$default_branch" "refs/heads/$default_branch"; do
              if has_commit "$rev"; then
                trusted=$(git rev-parse --verify -q "$rev^{commit}")
                break
              fi
            done
          fi
        else
          base=$before
          head=$after
        fi
        ;;
      *)
        [ "$mode" = range ] && why="a $event event names no commit range"
        ;;
    esac
    if [ -n "$why" ]; then
      warn "$why; scanning the full history instead"
    fi
  fi

  local scanned=history
  case "$mode" in
    tree) scanned=tree ;;
    history) ;;
    *) [ -n "$base" ] && scanned=range ;;
  esac

  if [ "$scanned" = range ]; then
    if [ -z "$head" ] || [ "$head" = "$ZERO_SHA" ]; then
      head=$(git rev-parse HEAD 2>/dev/null) || head=HEAD
    fi
    local missing=""
    has_commit "$base" || missing="base commit $base"
    has_commit "$head" || missing="${missing:+$missing and the }head commit $head"
    if [ -n "$missing" ]; then
      if [ "$(git rev-parse --is-shallow-repository 2>/dev/null)" = true ]; then
        warn "The checkout is shallow and the range's $missing is missing, so the range cannot be resolved: scanning the history that was fetched instead. Set fetch-depth: 0 on actions/checkout."
      else
        warn "The range's $missing is not in the repository (a force-push, or the wrong ref checked out?): scanning the full history instead."
      fi
      scanned=history
    fi
  fi

  local -a cmd=(leakgate scan)
  local range=""
  case "$scanned" in
    tree) ;;
    history)
      cmd+=(--history)
      [ -z "$trusted" ] || cmd+=(--config-from "$trusted")
      ;;
    range)
      range="$base..$head"
      # The configuration and baseline in force are the base's: the change under review cannot
      # weaken the gate it is checked by (leakgate warns when the change modifies them).
      cmd+=(--history --range "$range" --config-from "$base")
      ;;
  esac
  cmd+=(--format sarif --output "$sarif")
  [ -z "${INPUT_CONFIG:-}" ] || cmd+=(--config "$INPUT_CONFIG")
  [ -z "${INPUT_BASELINE:-}" ] || cmd+=(--baseline "$INPUT_BASELINE")
  truthy "${INPUT_VERIFY:-}" && cmd+=(--verify)
  truthy "${INPUT_REVOKE:-}" && cmd+=(--revoke)
  # Extra flags: split on whitespace, never globbed or evaluated.
  local -a extra=()
  set -f
  # shellcheck disable=SC2206
  extra=(${INPUT_ARGS:-})
  set +f
  cmd+=(${extra[@]+"${extra[@]}"} .)

  say "Scanning: $scanned${range:+ $range}"
  say "+ ${cmd[*]}"
  "${cmd[@]}"
  local code=$?

  local findings
  findings=$(count_results "$sarif")
  [ "$code" = 1 ] && annotate "$sarif"
  say "leakgate exited with $code: $findings finding(s)"

  set_output findings "$findings"
  set_output exit-code "$code"
  set_output scanned "$scanned"
  set_output range "$range"
  if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
    {
      say "### leakgate"
      say ""
      say "Scanned: $scanned${range:+ \`$range\`}. Findings: $findings. Exit code: $code."
    } >>"$GITHUB_STEP_SUMMARY"
  fi
  return 0
}

gate() {
  local code=${LEAKGATE_EXIT_CODE:-} findings=${LEAKGATE_FINDINGS:-0}
  case "$code" in
    0)
      say "leakgate: no findings."
      ;;
    1)
      if truthy "${INPUT_FAIL_ON_FINDINGS:-true}"; then
        printf '::error title=leakgate::%s finding(s): secrets were found. See the scan step log or code scanning.\n' "$findings"
        exit 1
      fi
      warn "$findings finding(s), not failing because fail-on-findings is false."
      ;;
    *)
      printf '::error title=leakgate::leakgate failed (exit code %s); see the scan step log.\n' "${code:-unknown}"
      exit 2
      ;;
  esac
}

case "${1:-}" in
  scan) scan ;;
  gate) gate ;;
  *)
    echo "usage: $0 scan|gate" >&2
    exit 2
    ;;
esac
