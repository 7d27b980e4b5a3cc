#!/usr/bin/env bash
# Instructions per simulated request, counted by valgrind (immune to the
# machine's noise, unlike wall time): the way to compare two builds here.
#   bench/icount.sh                      # the release build of this checkout
#   bench/icount.sh path/to/pooldrill    # another build
# Prints one line per workload: instructions in total and per request.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "icount.sh: valgrind is needed (apt install valgrind)" >&2; exit 2; }
bin=${1:-}
if [ -z "$bin" ]; then
  cargo build --release -q
  bin=target/release/pooldrill
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# shellcheck source=bench/count.sh
source bench/count.sh
count "mm80 (100 k customers)" scenarios/theory/mm80.toml --duration 1560s
count "after.toml (6 min)" scenarios/after.toml --duration 6m
count "large-fleet (70 s)" scenarios/scale/large-fleet.toml --duration 70s
