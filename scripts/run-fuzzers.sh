#!/usr/bin/env bash
# Runs every built libFuzzer target for a bounded time, seeded from the real
# captures in the module's testdata/fuzz_seeds/<target>/ (copied to a scratch
# corpus so generated inputs never land in the tree). Fails on any crash.
set -euo pipefail
BUILD=${1:?build dir}; SECONDS_EACH=${2:-20}
cd "$(dirname "$0")/.."
scratch=$(mktemp -d); trap 'rm -rf "$scratch"' EXIT
passed=0; failed=0
for bin in "$BUILD"/*_fuzz; do
  [ -x "$bin" ] || continue
  name=$(basename "$bin")
  corpus="$scratch/$name"; mkdir -p "$corpus"
  for seeds in exporter/*/testdata/fuzz_seeds/"$name" exporter/sources/*/testdata/fuzz_seeds/"$name"; do
    [ -d "$seeds" ] && cp -r "$seeds"/. "$corpus"/
  done
  if "$bin" -max_total_time="$SECONDS_EACH" -rss_limit_mb=2048 -artifact_prefix="$scratch/" \
       "$corpus" >"$scratch/$name.log" 2>&1; then
    echo "fuzz $name: ok ($(grep -c . "$scratch/$name.log") log lines, $(ls "$corpus" | wc -l) corpus files)"
    passed=$((passed + 1))
  else
    echo "fuzz $name: FAILED"; tail -40 "$scratch/$name.log"; failed=$((failed + 1))
  fi
done
echo "fuzzers: $passed passed, $failed failed"
[ "$failed" = 0 ]
