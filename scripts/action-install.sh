#!/usr/bin/env bash
# Install leakgate for the GitHub Action (action.yml), on Linux, macOS and Windows (Git Bash).
#
#   action-install.sh plan     choose the version: the `version` input (INPUT_VERSION), else the
#                              action's ref (LEAKGATE_ACTION_REF) when it is a version tag vX.Y.Z,
#                              else the action checkout's Cargo.toml version. Sets the step
#                              outputs `version` and `install` (false when a leakgate of that
#                              version is already on PATH: it is used as is).
#   action-install.sh release  download the release archive of $LEAKGATE_VERSION for this OS and
#                              architecture, verify it against the release's SHA256SUMS and put
#                              it on the job's PATH. A checksum mismatch, or a SHA256SUMS without
#                              the archive, fails the step: never an unverified binary. When the
#                              release or its asset for this OS/arch does not exist, sets `build`
#                              true, with `root` (install folder) and `cache-key`, for the build
#                              from source; otherwise `build` is false.
#   action-install.sh build    cargo install the action's checkout into $LEAKGATE_INSTALL_ROOT
#                              unless a cached build is there, and put it on the job's PATH.
#
# Downloads come only from the release base URL: https://github.com/leakgate/leakgate/releases/download
# unless LEAKGATE_RELEASE_BASE_URL names another (tests and mirrors; https, or http on loopback).
set -euo pipefail

action_path=${GITHUB_ACTION_PATH:?GITHUB_ACTION_PATH is not set}
default_base_url=https://github.com/leakgate/leakgate/releases/download
tmp="" # the download folder, removed on exit

say() { printf '%s\n' "$*"; }
warn() { printf '::warning title=leakgate install::%s\n' "$*"; }
die() {
  printf '::error title=leakgate install::%s\n' "$*"
  exit 1
}

set_output() {
  case "$2" in
    *$'\n'* | *$'\r'*) die "the output $1 would hold a line break" ;;
  esac
  printf '%s=%s\n' "$1" "$2" >>"${GITHUB_OUTPUT:-/dev/null}"
}

# The action checkout's version: the first `version = "..."` line of Cargo.toml, the [package] one.
source_version() {
  sed -n 's/^version *= *"\([^"]*\)".*/\1/p' "$action_path/Cargo.toml" | head -n 1
}

# True when $1 is a release version: X.Y.Z, with an optional pre-release or build suffix.
is_version() {
  [[ $1 =~ ^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$ ]]
}

# The version of the leakgate at $1 (a command or a path), or nothing.
version_of() {
  { "$1" --version 2>/dev/null || true; } | sed -n 's/^leakgate \([^ ]*\).*/\1/p' | head -n 1
}

# SHA-256 of standard input, in lowercase hex, with whichever tool the runner has.
sha256() {
  if command -v sha256sum >/dev/null 2>&1; then
    sha256sum | cut -d ' ' -f 1
  elif command -v shasum >/dev/null 2>&1; then
    shasum -a 256 | cut -d ' ' -f 1
  else
    openssl dgst -sha256 | sed 's/.*= *//'
  fi | tr '[:upper:]' '[:lower:]'
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

# The release's Rust target for the runner, or nothing when no release build exists for it.
release_target() {
  case "${RUNNER_OS:-}/${RUNNER_ARCH:-}" in
    Linux/X64) echo x86_64-unknown-linux-musl ;;
    Linux/ARM64) echo aarch64-unknown-linux-musl ;;
    macOS/X64) echo x86_64-apple-darwin ;;
    macOS/ARM64) echo aarch64-apple-darwin ;;
    Windows/X64) echo x86_64-pc-windows-msvc ;;
  esac
}

plan() {
  local want ref=${LEAKGATE_ACTION_REF:-${GITHUB_ACTION_REF:-}} input=${INPUT_VERSION:-} have=""
  if [ -n "$input" ]; then
    case "$input" in
      latest)
        die "version: latest is not supported: the action's scripts and the binary must be of one version. Pin a release (version: X.Y.Z) or leave it empty to use the action's own version."
        ;;
    esac
    want=${input#v}
    is_version "$want" || die "version must be a release version such as 1.2.3 (or v1.2.3), not '$input'"
    say "leakgate $want, as the version input says."
  elif [[ $ref =~ ^v[0-9] ]] && is_version "${ref#v}"; then
    want=${ref#v}
    say "leakgate $want, the action's ref $ref."
  else
    want=$(source_version)
    is_version "$want" || die "cannot read the version from $action_path/Cargo.toml"
    say "leakgate $want, the version of the action's checkout${ref:+ (ref $ref is no version tag)}."
  fi
  set_output version "$want"
  if command -v leakgate >/dev/null 2>&1; then
    have=$(version_of leakgate)
  fi
  if [ -n "$have" ] && [ "$have" = "$want" ]; then
    say "Using leakgate $have from $(command -v leakgate)"
    set_output install false
    return
  fi
  [ -z "$have" ] || say "leakgate $have on PATH is not the version wanted ($want)."
  set_output install true
}

# Set `base` to the release base URL, checked: https, or http to a loopback address (tests).
release_base() {
  base=${LEAKGATE_RELEASE_BASE_URL:-$default_base_url}
  base=${base%/}
  case "$base" in
    https://?*) ;;
    http://127.0.0.1:* | http://127.0.0.1/* | http://localhost:* | http://localhost/* | http://\[::1\]:* | http://\[::1\]/*) ;;
    *) die "LEAKGATE_RELEASE_BASE_URL must be an https URL (or http on loopback, for tests), not '$base'" ;;
  esac
}

# Download $1 into $2. Returns 0 on HTTP 200, 4 on 404 (not found); fails the step on anything
# else, after curl's bounded retries of timeouts and transient HTTP errors (408, 429, 5xx).
fetch() {
  local url=$1 out=$2 code rc=0 proto=https
  case "$url" in http://*) proto=http ;; esac
  code=$(curl --silent --show-error --location --proto "=$proto" --proto-redir =https \
    --connect-timeout 20 --max-time 600 --retry 3 --retry-max-time 120 \
    --user-agent leakgate-action --write-out '%{http_code}' --output "$out" "$url") || rc=$?
  if [ "$rc" != 0 ]; then
    rm -f "$out"
    die "download of $url failed (curl exit code $rc, HTTP ${code:-none})"
  fi
  case "$code" in
    200) return 0 ;;
    404)
      rm -f "$out"
      return 4
      ;;
    *)
      rm -f "$out"
      die "download of $url answered HTTP $code"
      ;;
  esac
}

# Extract the binary named $2 from the top level of archive $1 into folder $3.
extract() {
  local archive=$1 name=$2 dest=$3 member
  case "$archive" in
    *.zip)
      if command -v unzip >/dev/null 2>&1; then
        member=$(unzip -Z1 "$archive" | tr -d '\r' | grep -Fx -e "$name" -e "./$name" | head -n 1) || member=""
        [ -n "$member" ] || die "the archive $(basename "$archive") holds no $name at its top level"
        unzip -q -o "$archive" "$member" -d "$dest"
      else
        # Windows runners without unzip: PowerShell, paths given through the environment.
        local ps=powershell to_native=(printf '%s\n')
        command -v pwsh >/dev/null 2>&1 && ps=pwsh
        command -v cygpath >/dev/null 2>&1 && to_native=(cygpath -w)
        LEAKGATE_ZIP=$("${to_native[@]}" "$archive") LEAKGATE_DEST=$("${to_native[@]}" "$dest") \
          "$ps" -NoProfile -NonInteractive -Command \
          'Expand-Archive -LiteralPath $env:LEAKGATE_ZIP -DestinationPath $env:LEAKGATE_DEST -Force'
      fi
      ;;
    *)
      member=$(tar -tzf "$archive" | grep -Fx -e "$name" -e "./$name" | head -n 1) || member=""
      [ -n "$member" ] || die "the archive $(basename "$archive") holds no $name at its top level"
      tar -xzf "$archive" -C "$dest" "$member"
      ;;
  esac
  [ -f "$dest/$name" ] && [ ! -L "$dest/$name" ] ||
    die "the archive $(basename "$archive") holds no regular file $name at its top level"
}

# No release to install: plan the build from source, or fail when it would be another version.
fallback() {
  local version=$1 why=$2 source lock_hash all_hash
  source=$(source_version)
  if [ "$source" != "$version" ]; then
    die "$why, and the action's source is version $source, not $version: set the version input to a released version, or leave it empty."
  fi
  warn "$why: building leakgate $version from the action's source (cargo install --locked), cached with actions/cache."
  lock_hash=$(sha256 <"$action_path/Cargo.lock")
  all_hash=$(source_hash)
  set_output build true
  set_output root "${RUNNER_TEMP:-${TMPDIR:-/tmp}}/leakgate-$version"
  set_output cache-key "leakgate-${RUNNER_OS:-os}-${RUNNER_ARCH:-arch}-$version-${lock_hash:0:16}-${all_hash:0:16}"
}

release() {
  local version=${LEAKGATE_VERSION:?LEAKGATE_VERSION is not set: run 'action-install.sh plan' first}
  is_version "$version" || die "not a release version: '$version'"
  local target
  target=$(release_target)
  if [ -z "$target" ]; then
    fallback "$version" "No release build exists for ${RUNNER_OS:-this OS} ${RUNNER_ARCH:-}"
    return
  fi
  local ext=tar.gz exe=leakgate
  case "$target" in *-windows-*)
    ext=zip
    exe=leakgate.exe
    ;;
  esac
  local base asset url
  release_base
  asset="leakgate-$version-$target.$ext"
  url="$base/v$version"

  tmp=$(mktemp -d "${RUNNER_TEMP:-${TMPDIR:-/tmp}}/leakgate-download.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  say "Downloading $url/$asset"
  local rc=0
  fetch "$url/$asset" "$tmp/$asset" || rc=$?
  if [ "$rc" = 4 ]; then
    fallback "$version" "No release asset $asset at $url (HTTP 404: no release v$version, or none for $RUNNER_OS $RUNNER_ARCH)"
    return
  fi
  rc=0
  fetch "$url/SHA256SUMS" "$tmp/SHA256SUMS" || rc=$?
  [ "$rc" != 4 ] || die "the release v$version has $asset but no SHA256SUMS (HTTP 404): refusing a binary that cannot be verified"

  # Lines `<sha256 hex>  <name>` (a `*` before the name marks binary mode).
  local expected lines actual
  expected=$(tr -d '\r' <"$tmp/SHA256SUMS" |
    awk -v name="$asset" '{ n = $2; sub(/^\*/, "", n) } NF == 2 && n == name { print tolower($1) }' |
    LC_ALL=C sort -u)
  lines=$(printf '%s' "$expected" | grep -c . || true)
  [ "$lines" != 0 ] || die "SHA256SUMS of v$version has no line for $asset: refusing a binary that cannot be verified"
  [ "$lines" = 1 ] || die "SHA256SUMS of v$version gives $asset $lines different checksums: refusing it"
  [[ $expected =~ ^[0-9a-f]{64}$ ]] || die "SHA256SUMS of v$version gives $asset a malformed checksum: refusing it"
  actual=$(sha256 <"$tmp/$asset")
  [ "$actual" = "$expected" ] ||
    die "checksum mismatch for $asset: SHA256SUMS says $expected, the download is $actual. Refusing it."
  say "Verified $asset: sha256 $actual"

  mkdir "$tmp/x"
  extract "$tmp/$asset" "$exe" "$tmp/x"
  local root="${RUNNER_TEMP:-${TMPDIR:-/tmp}}/leakgate-$version-$target" have
  mkdir -p "$root/bin"
  mv -f "$tmp/x/$exe" "$root/bin/$exe"
  chmod +x "$root/bin/$exe"
  have=$(version_of "$root/bin/$exe")
  if [ "$have" != "$version" ]; then
    rm -f "$root/bin/$exe"
    die "the release's $exe says it is version '${have:-unknown}', not $version: refusing it"
  fi
  echo "$root/bin" >>"${GITHUB_PATH:-/dev/null}"
  say "Installed leakgate $version ($target) in $root/bin"
  set_output build false
}

build() {
  local root=${LEAKGATE_INSTALL_ROOT:?LEAKGATE_INSTALL_ROOT is not set}
  if [ -f "$root/bin/leakgate" ] || [ -f "$root/bin/leakgate.exe" ]; then
    say "Using the cached build in $root"
  else
    if ! command -v cargo >/dev/null 2>&1; then
      die "cargo is not on PATH; set up Rust (for example with dtolnay/rust-toolchain) before this action"
    fi
    cargo install --locked --path "$action_path" --root "$root"
  fi
  echo "$root/bin" >>"${GITHUB_PATH:-/dev/null}"
  "$root/bin/leakgate" --version
}

case "${1:-}" in
  plan) plan ;;
  release) release ;;
  build) build ;;
  *)
    echo "usage: $0 plan|release|build" >&2
    exit 2
    ;;
esac
