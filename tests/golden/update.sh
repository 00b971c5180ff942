#!/bin/sh
# update.sh — regenerates the golden results that tests/golden/test_golden.c compares with.
# Run it only after a deliberate change of the model, and say in the commit what moved and why.
#
#   tests/golden/update.sh [build/cimsim]
set -eu
cd "$(dirname "$0")"
bin="${1:-../../build/cimsim}"
while IFS='|' read -r name args; do
    case "$name" in ''|\#*) continue ;; esac
    # shellcheck disable=SC2086
    "$bin" run $args -q -o "data/$name.json" >/dev/null
    echo "data/$name.json"
done < cases.txt
