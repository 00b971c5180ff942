#!/bin/sh
# fuzz.sh — builds the libFuzzer targets (tests/fuzz/fuzz_*.c) with clang, ASan and UBSan, and
# runs each for RUNS executions (default 10000000) from its seed corpus.
#
#   tools/fuzz.sh [RUNS [TARGET...]]
#
# TARGET is fuzz_trace, fuzz_trace_text, fuzz_cfg, fuzz_report (result/compare JSON behind
# `cimsim report`) or fuzz_accelergy (`cimsim energy import`); default: all five, one after
# another; run two copies with different targets to use two cores. FUZZ_FLAGS adds libFuzzer flags; long
# fuzz_cfg runs use FUZZ_FLAGS=-detect_leaks=0, because libconfig leaks a token on every syntax
# error (suppressed in tests/fuzz/lsan.supp) and libFuzzer then scans for leaks after each such
# input, which costs 7x; run a shorter leak-checking pass beside it.
# New inputs go to build-fuzz/corpus/TARGET (never into the committed seeds). A crash stops the
# script with the target's report and the crashing input saved in build-fuzz/.
set -eu
runs="${1:-10000000}"
[ $# -gt 0 ] && shift
targets="${*:-fuzz_trace fuzz_trace_text fuzz_cfg fuzz_report fuzz_accelergy}"
cd "$(dirname "$0")/.."
tools/install-deps.sh --fuzz
CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCIMSIM_FUZZ=ON -DCIMSIM_TESTS=OFF >/dev/null
cmake --build build-fuzz -j"$(nproc)" --target $targets
export LSAN_OPTIONS="suppressions=$(pwd)/tests/fuzz/lsan.supp"
for t in $targets; do
    seeds="tests/fuzz/corpus_${t#fuzz_}"
    mkdir -p "build-fuzz/corpus/$t"
    echo "== $t: $runs runs" >&2
    (cd build-fuzz && "./fuzz/$t" -runs="$runs" -max_len=16384 -print_final_stats=1 ${FUZZ_FLAGS:-} \
        "corpus/$t" "../$seeds")
done
