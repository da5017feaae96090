#!/usr/bin/env bash
# Build one libFuzzer target with coverage + ASan and run it.
#   Fuzz/run.sh TARGET SECONDS        fuzz for SECONDS (0 = replay corpus only)
# Seeds come from Corpus/TARGET (never modified); new inputs go to a scratch
# corpus under .build-fuzz/. A crash leaves crash-* in Fuzz/Crashes/TARGET
# and exits non-zero; copy it into Regressions/TARGET/ to keep it (swift test replays it).
set -euo pipefail
cd "$(dirname "$0")"
target=${1:?usage: run.sh TARGET SECONDS}
secs=${2:-15}
# --sanitize=fuzzer turns off SwiftPM's entry-point renaming; the comma form
# keeps coverage instrumentation together with ASan (see swift-tooling.md).
# Optimized (-c release) with debug info kept (-g) for readable reports:
# several times the executions per second of a debug build.
swift build -c release --scratch-path .build-fuzz --sanitize=fuzzer \
  -Xswiftc -sanitize=fuzzer,address -Xswiftc -g --product "$target" 2>&1 \
  | grep -v -e 'Cannot export local symbol' -e '^warning: ' | tail -3
bin=.build-fuzz/release/$target
work=.build-fuzz/corpus/$target
crashes=Crashes/$target
mkdir -p "$work" "$crashes"
export SWIFT_BACKTRACE=enable=no
export ASAN_OPTIONS=detect_leaks=0
if [ "$secs" = 0 ]; then
  exec "$bin" -runs=0 "Corpus/$target"
fi
# While fuzzing, ASan keeps no allocation stacks, does not fill fresh
# allocations and keeps no quarantine of freed ones: 1.6-1.8x the
# executions per second on allocation-heavy targets, and a further 1.1-1.5x
# on the targets that open zstd bundles and kdump files (their large
# buffers are reused instead of mapped anew). The price is a weaker check
# for use after free, which Swift code cannot reach without unsafe
# pointers. A crash is kept in Crashes/; replay it with full reports:
#   ASAN_OPTIONS=detect_leaks=0 .build-fuzz/release/TARGET Crashes/TARGET/crash-...
export ASAN_OPTIONS=${FUZZ_ASAN_OPTIONS:-detect_leaks=0:malloc_context_size=0:max_malloc_fill_size=0:detect_stack_use_after_return=0:quarantine_size_mb=0}
"$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
  -artifact_prefix="$crashes/" "$work" "Corpus/$target" 2>&1 | tail -12
