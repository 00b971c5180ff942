#!/bin/sh
# install-deps.sh — installs the Debian 12 packages cimsim needs, only those missing.
#
#   tools/install-deps.sh           build and run: compiler, CMake, libconfig, zstd, jansson,
#                                   libyaml, gnuplot
#   tools/install-deps.sh --test    also the test suite's: Criterion, and pdflatex with booktabs
#                                   (the LaTeX report test compiles its output)
#   tools/install-deps.sh --fuzz    also clang with its fuzzer and sanitizer runtimes
#
# Idempotent: does nothing when everything is present. Runs apt-get as root, or through sudo.
set -eu

pkgs="gcc make cmake pkg-config libconfig-dev libzstd-dev libjansson-dev libyaml-dev gnuplot-nox"
for arg in "$@"; do
    case "$arg" in
    --test) pkgs="$pkgs libcriterion-dev texlive-latex-base texlive-latex-recommended" ;;
    --fuzz) pkgs="$pkgs clang libclang-rt-dev" ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) echo "install-deps.sh: error: unknown option '$arg' (--test, --fuzz)" >&2; exit 2 ;;
    esac
done

missing=""
for p in $pkgs; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
    sudo=""
elif command -v sudo >/dev/null 2>&1; then
    sudo="sudo"
else
    echo "install-deps.sh: error: missing packages:$missing (run as root or install sudo)" >&2
    exit 2
fi
echo "install-deps.sh: installing:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
# shellcheck disable=SC2086
$sudo apt-get install -y -q --no-install-recommends $missing
