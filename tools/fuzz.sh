#!/bin/sh
# fuzz.sh — builds the libFuzzer targets (tests/fuzz/fuzz_*.c) with clang, ASan and UBSan, and
# runs each for RUNS executions (default 10000000) from its seed corpus.
#
#   tools/fuzz.sh [RUNS]
#
# New inputs go to build-fuzz/corpus/TARGET (never into the committed seeds). A crash stops the
# script with the target's report and the crashing input saved in build-fuzz/.
set -eu
runs="${1:-10000000}"
cd "$(dirname "$0")/.."
tools/install-deps.sh --fuzz
CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCIMSIM_FUZZ=ON -DCIMSIM_TESTS=OFF >/dev/null
cmake --build build-fuzz -j"$(nproc)" --target fuzz_trace fuzz_trace_text fuzz_cfg
export LSAN_OPTIONS="suppressions=$(pwd)/tests/fuzz/lsan.supp"
for t in fuzz_trace fuzz_trace_text fuzz_cfg; do
    seeds="tests/fuzz/corpus_${t#fuzz_}"
    mkdir -p "build-fuzz/corpus/$t"
    echo "== $t: $runs runs" >&2
    (cd build-fuzz && "./fuzz/$t" -runs="$runs" -max_len=16384 -print_final_stats=1 \
        "corpus/$t" "../$seeds")
done
