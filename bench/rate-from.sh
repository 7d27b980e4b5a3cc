#!/usr/bin/env bash
# What a rate profile read from a file costs: instructions per request of
# the M/M/80 benchmark at a constant 64/s and with a 24-hour profile of
# 5760 points (a step every 15 s, within 3 % of 64/s, so that the load is
# the same) read from bench/rate-from/day.csv; the first 6 hours of each
# (1.4 M requests), counted as bench/icount.sh does. The profile's count
# includes reading and checking its file.
#   bench/rate-from.sh                   # the release build of this checkout
#   bench/rate-from.sh path/to/pooldrill # another build
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "rate-from.sh: valgrind is needed" >&2; exit 2; }
bin=${1:-}
if [ -z "$bin" ]; then
  cargo build --release -q
  bin=target/release/pooldrill
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# shellcheck source=bench/count.sh
source bench/count.sh
count "constant 64/s" scenarios/theory/mm80.toml --duration 6h
count "24-h profile (5760 points)" bench/rate-from/mm80-day.toml --duration 6h
