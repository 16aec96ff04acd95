#!/usr/bin/env bash
# The scanning steps of the leakgate GitHub Action (action.yml). Runs under bash 3.2 and later
# (macOS), Git Bash (Windows) and Linux; reads the event payload with jq or Python when present.
#
#   action-scan.sh plan   pick what to scan from the event and the `mode` and `cache` inputs; set
#                         the step outputs `scanned` (history, range or tree), `range`,
#                         `config-from`, `category` (the code-scanning category), and `cache`
#                         (true/false), `cache-file`, `cache-key`, `cache-restore-key` for the
#                         cache steps.
#   action-scan.sh scan   run leakgate as planned (the plan's outputs in LEAKGATE_SCANNED,
#                         LEAKGATE_RANGE, LEAKGATE_CONFIG_FROM, LEAKGATE_CATEGORY and
#                         LEAKGATE_CACHE_FILE) with SARIF output, and set the step outputs
#                         `findings`, `sarif-file`, `exit-code`, `scanned`, `range` and
#                         `category`. Exits 0 when leakgate ran, whatever it found, so the SARIF
#                         upload runs; `gate` decides the job's fate.
#   action-scan.sh gate   fail on findings (unless fail-on-findings is false) and on errors.
#
# Inputs come as INPUT_* environment variables (see action.yml); the event as GITHUB_EVENT_NAME,
# GITHUB_EVENT_PATH and GITHUB_REF, as the runner sets them.
set -uo pipefail

ZERO_SHA=0000000000000000000000000000000000000000

say() { printf '%s\n' "$*"; }
warn() { printf '::warning title=leakgate::%s\n' "$*"; }
fail() {
  printf '::error title=leakgate::%s\n' "$*"
  exit 2
}

set_output() {
  case "$2" in
    *$'\n'* | *$'\r'*) fail "the output $1 would hold a line break" ;;
  esac
  printf '%s=%s\n' "$1" "$2" >>"${GITHUB_OUTPUT:-/dev/null}"
}

# Enter the repository to scan: the `path` input, relative to the workspace (default: the
# workspace itself). The scan, its config and its baseline resolve there.
enter_repo() {
  local workspace=${GITHUB_WORKSPACE:-.} path=${INPUT_PATH:-}
  case "$path" in
    *$'\n'* | *$'\r'*) fail "path must be one line" ;;
    "" | .) path=$workspace ;;
    /*) ;;
    *) path=$workspace/$path ;;
  esac
  [ -d "$path" ] || fail "path: no folder ${INPUT_PATH:-$workspace}"
  cd "$path" || fail "cannot enter ${INPUT_PATH:-the workspace $workspace}"
}

# The SARIF report's path: the sarif-file input, relative to the workspace.
report_path() {
  local sarif=${INPUT_SARIF_FILE:-leakgate.sarif}
  case "$sarif" in
    /*) printf '%s\n' "$sarif" ;;
    *) printf '%s\n' "${GITHUB_WORKSPACE:-$PWD}/$sarif" ;;
  esac
}

# Delete a report an earlier step or run left, so only this run's scan can produce the file
# the upload step sends.
clear_report() {
  local report
  report=$(report_path)
  if [ -e "$report" ] || [ -L "$report" ]; then
    rm -f "$report" || fail "cannot delete the stale report $report"
    say "Deleted $report, left by an earlier step: only this run's report is uploaded."
  fi
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
  # Neither: good enough for top-level strings and booleans (push: before, after, created,
  # ref), and for repository.default_branch, the first `default_branch` key (the only one in a
  # push payload; a key inside a string value has escaped quotes, so it cannot match).
  local key=$path
  case "$path" in
    repository.default_branch) key=default_branch ;;
    *.*) return 0 ;;
  esac
  tr -d '\r\n' <"$file" |
    grep -o "\"$key\"[[:space:]]*:[[:space:]]*\(\"[^\"]*\"\|true\|false\)" |
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
  # Workflow-command escaping (paths and messages come from the scanned repository): %, CR and
  # LF everywhere, and `:` and `,` in properties, so no name can end or add a property.
  if command -v jq >/dev/null 2>&1; then
    jq -r 'def data: gsub("%"; "%25") | gsub("\r"; "%0D") | gsub("\n"; "%0A");
      def prop: data | gsub(":"; "%3A") | gsub(","; "%2C");
      limit(50; .runs[]?.results[]?
      | (.locations[0].physicalLocation // {}) as $p
      | "::error file=\($p.artifactLocation.uri // "" | prop),line=\($p.region.startLine // 1),title=\("leakgate \(.ruleId)" | prop)::\(.message.text // .ruleId | data)")' \
      "$file" 2>/dev/null && return 0
  fi
  for py in python3 python; do
    command -v "$py" >/dev/null 2>&1 || continue
    "$py" -c '
import json, sys
def data(s):
    return str(s).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
def prop(s):
    return data(s).replace(":", "%3A").replace(",", "%2C")
doc = json.load(open(sys.argv[1], encoding="utf-8"))
results = [r for run in doc.get("runs") or [] for r in run.get("results") or []]
for r in results[:50]:
    loc = (r.get("locations") or [{}])[0].get("physicalLocation") or {}
    uri = (loc.get("artifactLocation") or {}).get("uri", "")
    line = (loc.get("region") or {}).get("startLine", 1)
    text = (r.get("message") or {}).get("text") or r.get("ruleId", "")
    print("::error file=%s,line=%s,title=%s::%s" % (prop(uri), line, prop("leakgate " + str(r.get("ruleId", ""))), data(text)))
' "$file" 2>/dev/null && return 0
  done
  return 0
}

# The step summary's findings: a line of totals, then a Markdown table of at most 50 rows (rule,
# severity, place, commit, the secret redacted as leakgate shows it), read from the SARIF report.
# Every cell is escaped (paths and rule names come from the scanned repository), and a secret is
# redacted here too, even when `args` asked leakgate for `--no-redact`.
summary_table() {
  local file=$1 findings=$2 py
  if [ -f "$file" ]; then
    for py in python3 python; do
      command -v "$py" >/dev/null 2>&1 || continue
      "$py" -c '
import json, sys
from urllib.parse import unquote

CAP = 50
doc = json.load(open(sys.argv[1], encoding="utf-8"))
results = [r for run in doc.get("runs") or [] for r in run.get("results") or []]

def cell(value):
    text = " ".join(str(value).split())
    return "".join(c if c.isalnum() or c in " ./-:,=+@()" else "&#%d;" % ord(c) for c in text)

def redact(secret):
    # As leakgate redacts: a four-character prefix of a secret of 16 or more, then *****.
    if secret.endswith("*****") and len(secret) <= 9:
        return secret
    return (secret[:4] if len(secret) >= 16 else "") + "*****"

counts = {}
for r in results:
    sev = str((r.get("properties") or {}).get("severity") or r.get("level") or "unknown")
    counts[sev] = counts.get(sev, 0) + 1
order = ["critical", "high", "medium", "low", "info"]
parts = ["%d %s" % (counts[s], s) for s in order if s in counts]
parts += ["%d %s" % (n, s) for s, n in sorted(counts.items()) if s not in order]
print("**%d finding(s)**%s" % (len(results), (": " + ", ".join(cell(p) for p in parts)) if parts else "."))
if not results:
    sys.exit(0)
print()
print("| Rule | Severity | Where | Commit | Secret |")
print("|---|---|---|---|---|")
for r in results[:CAP]:
    props = r.get("properties") or {}
    loc = ((r.get("locations") or [{}])[0].get("physicalLocation")) or {}
    where = unquote((loc.get("artifactLocation") or {}).get("uri") or "")
    line = (loc.get("region") or {}).get("startLine")
    if props.get("archive_member_path"):
        where += "!" + str(props["archive_member_path"])
        line = props.get("archive_member_line", line)
    if line is not None:
        where += ":%s" % line
    commit = str(props.get("commit") or "")[:12]
    print("| %s | %s | %s | %s | %s |" % (
        cell(r.get("ruleId", "")), cell(props.get("severity") or r.get("level") or ""),
        cell(where), cell(commit), cell(redact(str(props.get("secret") or "")))))
if len(results) > CAP:
    print()
    print("... and %d more: see code scanning or the SARIF report." % (len(results) - CAP))
' "$file" && return 0
    done
  fi
  if [ -f "$file" ]; then
    say "**$findings finding(s)** (the table of findings needs Python)."
  else
    say "No report was written."
  fi
}

# A key part made safe for actions/cache: letters, digits, dot, underscore and dash only.
key_part() {
  printf '%s' "${1:-unknown}" | tr -c 'A-Za-z0-9._-' '-'
}

plan() {
  local mode=${INPUT_MODE:-auto} event=${GITHUB_EVENT_NAME:-}
  clear_report
  enter_repo

  case "$mode" in
    auto | history | range | tree) ;;
    *) fail "mode must be auto, history, range or tree, not '$mode'" ;;
  esac

  # Which branch this run is for. Code scanning keeps alerts per branch and category, from the
  # latest upload: the default branch's uploads must cover its whole history.
  local ref default_branch on_default=false
  ref=${GITHUB_REF:-}
  [ -n "$ref" ] || ref=$(event_field ref)
  default_branch=$(event_field repository.default_branch)
  if [ -n "$default_branch" ] && [ "$ref" = "refs/heads/$default_branch" ]; then
    on_default=true
  elif [ "$event" = schedule ]; then
    # Scheduled runs are always on the default branch; their payload may not name it.
    on_default=true
  fi

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
        elif [ "$mode" = auto ] && [ "$on_default" = true ]; then
          # A range upload would tell code scanning that every older secret was fixed.
          say "A push to the default branch ($default_branch): scanning the full history."
          # The gate's config is the one before the push, as for a range.
          if [ "$before" != "$ZERO_SHA" ]; then
            if has_commit "$before"; then
              trusted=$before
            else
              warn "The push's before commit $before is not in the repository (a force-push?): the configuration and baseline in force are the checkout's."
            fi
          fi
        elif [ "$before" = "$ZERO_SHA" ] || [ "$created" = true ]; then
          say "A new branch or tag: scanning the full history."
          # The gate's config comes from the default branch, not from the new branch itself.
          if [ -n "$default_branch" ] && [ "$on_default" != true ]; then
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

  local shallow=false
  [ "$(git rev-parse --is-shallow-repository 2>/dev/null)" = true ] && shallow=true
  if [ "$scanned" = range ]; then
    if [ -z "$head" ] || [ "$head" = "$ZERO_SHA" ]; then
      head=$(git rev-parse HEAD 2>/dev/null) || head=HEAD
    fi
    local missing=""
    has_commit "$base" || missing="base commit $base"
    has_commit "$head" || missing="${missing:+$missing and the }head commit $head"
    if [ -n "$missing" ]; then
      if [ "$shallow" = true ]; then
        warn "The checkout is shallow and the range's $missing is missing, so the range cannot be resolved: scanning the history that was fetched instead. Set fetch-depth: 0 on actions/checkout."
        shallow=warned
      else
        warn "The range's $missing is not in the repository (a force-push, or the wrong ref checked out?): scanning the full history instead."
      fi
      scanned=history
    fi
  fi
  if [ "$scanned" = history ] && [ "$shallow" = true ]; then
    warn "The checkout is shallow: only the fetched commits are scanned, and code scanning closes the alerts of secrets in the rest of the history. Set fetch-depth: 0 on actions/checkout."
  fi

  # Uploads that cover different things need different categories, or each would close the
  # other's alerts.
  local range="" config_from="" category
  case "$scanned" in
    tree) category=leakgate/tree ;;
    history)
      category=leakgate/history
      config_from=$trusted
      ;;
    range)
      range="$base..$head"
      # The configuration and baseline in force are the base's: the change under review cannot
      # weaken the gate it is checked by (leakgate warns when the change modifies them).
      config_from=$base
      case "$event" in
        pull_request*) category=leakgate/pr ;;
        *) category=leakgate/range ;;
      esac
      ;;
  esac
  if [ -n "${INPUT_CATEGORY:-}" ]; then
    say "Category $INPUT_CATEGORY, as the category input says (computed: $category)."
    category=$INPUT_CATEGORY
  fi

  # The default branch's full-history scans keep the blobs already scanned clean in a cache
  # outside the workspace, restored from the newest earlier run (the key's prefix) and saved
  # under this run's own key.
  local cache=false cache_file="" cache_key="" cache_restore_key=""
  if [ "$scanned" = history ] && [ "$on_default" = true ]; then
    if truthy "${INPUT_CACHE:-true}"; then
      local version
      version=$(leakgate --version 2>/dev/null | sed -n 's/^leakgate \([^ ]*\).*/\1/p' | head -n 1) || version=""
      cache=true
      cache_file="${RUNNER_TEMP:-${TMPDIR:-/tmp}}/leakgate-history.cache"
      cache_restore_key="leakgate-history-$(key_part "${RUNNER_OS:-}")-$(key_part "$version")-$(key_part "${GITHUB_JOB:-}")-"
      cache_key="$cache_restore_key$(key_part "${GITHUB_RUN_ID:-0}")-$(key_part "${GITHUB_RUN_ATTEMPT:-1}")"
    else
      say "cache is false: every blob of the history is read."
    fi
  fi

  say "Plan: scan $scanned${range:+ $range}, upload category $category${cache_file:+, cache $cache_file}"
  set_output scanned "$scanned"
  set_output range "$range"
  set_output config-from "$config_from"
  set_output category "$category"
  set_output cache "$cache"
  set_output cache-file "$cache_file"
  set_output cache-key "$cache_key"
  set_output cache-restore-key "$cache_restore_key"
}

scan() {
  local sarif=${INPUT_SARIF_FILE:-leakgate.sarif} report
  [ -n "$sarif" ] || sarif=leakgate.sarif
  report=$(report_path)
  # Set first, so the action's output names the report even if the scan cannot run.
  set_output sarif-file "$sarif"
  set_output sarif-written false
  clear_report
  enter_repo
  local checkout
  checkout=$(git rev-parse --show-toplevel 2>/dev/null) || checkout=$PWD
  set_output checkout-path "$checkout"

  # The plan step's outputs.
  local scanned=${LEAKGATE_SCANNED:-} range=${LEAKGATE_RANGE:-}
  local config_from=${LEAKGATE_CONFIG_FROM:-} cache_file=${LEAKGATE_CACHE_FILE:-}
  local category=${LEAKGATE_CATEGORY:-}
  case "$scanned" in
    tree | history | range) ;;
    *) fail "no scan plan (LEAKGATE_SCANNED is '$scanned'): run 'action-scan.sh plan' first" ;;
  esac
  [ "$scanned" != range ] || [ -n "$range" ] || fail "the plan names no range"

  local -a cmd=(leakgate scan)
  case "$scanned" in
    tree) ;;
    history) cmd+=(--history) ;;
    range) cmd+=(--history --range "$range") ;;
  esac
  [ -z "$config_from" ] || cmd+=(--config-from "$config_from")
  if [ -n "$cache_file" ] && [ "$scanned" != tree ]; then
    if [ -f "$cache_file" ]; then
      say "Cache: $cache_file, restored from an earlier run: only blobs not in it are read."
    else
      say "Cache: $cache_file, none restored: every blob is read, and the cache is saved for the next run."
    fi
    cmd+=(--cache "$cache_file")
  fi
  cmd+=(--format sarif --output "$report")
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

  local findings written=false
  findings=$(count_results "$report")
  [ "$code" = 1 ] && annotate "$report"
  say "leakgate exited with $code: $findings finding(s)"
  # Only a complete report is uploaded: code scanning would close the alerts a failed scan
  # did not get to.
  if [ -f "$report" ] && { [ "$code" = 0 ] || [ "$code" = 1 ]; }; then
    written=true
  elif [ -f "$report" ]; then
    warn "leakgate failed (exit code $code): its report $sarif is incomplete and is not uploaded."
  fi

  set_output findings "$findings"
  set_output exit-code "$code"
  set_output scanned "$scanned"
  set_output range "$range"
  set_output category "$category"
  if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
    {
      say "### leakgate"
      say ""
      say "Scanned: $scanned${range:+ \`$range\`}${category:+ (code scanning category \`$category\`)}. Exit code: $code."
      say ""
      summary_table "$report" "$findings"
    } >>"$GITHUB_STEP_SUMMARY"
  fi
  set_output sarif-written "$written"
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
  plan) plan ;;
  scan) scan ;;
  gate) gate ;;
  *)
    echo "usage: $0 plan|scan|gate" >&2
    exit 2
    ;;
esac
