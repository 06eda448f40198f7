#!/usr/bin/env bash
# clang-tidy (.clang-tidy) over our C++ (every tracked .cc of exporter/,
# bench/, tools/, tests/; headers through .clang-tidy's HeaderFilterRegex),
# with the flags of BUILD_DIR's compile_commands.json (CMakeLists.txt sets
# CMAKE_EXPORT_COMPILE_COMMANDS), JOBS files at a time. Files the build does not
# compile (the libFuzzer targets outside GVE_FUZZ builds) get the flags of their
# module's files (clang's compilation database interpolation). Generated
# protobuf code (under BUILD_DIR) is not ours and is never checked. Fails on any
# finding. Usage: scripts/clang-tidy.sh [BUILD_DIR [FILE_REGEX]]
#   FILE_REGEX (extended, on repo-relative paths) picks a subset.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
FILES_RE=${2:-.}
JOBS=${JOBS:-2}

[ -f "$BUILD/compile_commands.json" ] || { echo "$BUILD/compile_commands.json missing: configure first" >&2; exit 1; }
root=$(pwd)
mapfile -t files < <(git ls-files 'exporter/*.cc' 'bench/*.cc' 'tools/*.cc' 'tests/*.cc' |
  grep -E -- "$FILES_RE" || true)
((${#files[@]})) || { echo "clang-tidy: no files match $FILES_RE" >&2; exit 1; }

out=$(mktemp -d); trap 'rm -rf "$out"' EXIT
start=$SECONDS
# One log per file, so that parallel runs do not interleave. clang-tidy exits
# non-zero on a compiler error: that is a finding too (parsed below).
printf '%s\0' "${files[@]}" |
  xargs -0 -P"$JOBS" -I{} sh -c 'clang-tidy -p "$1" --quiet "$2" >"$3/$(echo "$2" | tr / _).log" 2>&1 || true' \
    _ "$BUILD" {} "$out"

# Findings (file:line:col: warning|error: message [check]), with the notes that
# follow them, once each (a header's finding comes from every file including
# it); paths relative to the repo.
findings=$(cat "$out"/*.log | awk -v root="$root/" '
  /^[^ ]+:[0-9]+:[0-9]+: (warning|error): / {
    path = $0; sub(/:.*/, "", path); sub("^" root, "", path)
    keep = !seen[$0]++
    if (keep) { line = $0; sub("^" root, "", line); print line }
    next
  }
  /^[^ ]+:[0-9]+:[0-9]+: note: / { if (keep) { line = $0; sub("^" root, "", line); print line }; next }
  / warnings? (and [0-9]+ errors? )?generated\.$|^Suppressed [0-9]+ warnings|^Use -header-filter|^Error while processing/ { next }
  { if (keep) print }')
echo "clang-tidy: ${#files[@]} files in $((SECONDS - start)) s (${JOBS} jobs)"
if grep -qE '^[^ ]+:[0-9]+:[0-9]+: (warning|error): ' <<<"$findings"; then
  echo "$findings"
  echo "clang-tidy: $(grep -cE '^[^ ]+:[0-9]+:[0-9]+: (warning|error): ' <<<"$findings") findings (.clang-tidy)" >&2
  exit 1
fi
