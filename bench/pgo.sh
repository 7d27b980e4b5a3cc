#!/usr/bin/env bash
# A profile-guided build of pooldrill: the compiler lays out and inlines the
# code by what the shipped scenarios actually run. Same source, same outputs
# (byte for byte), fewer instructions. Not the default build: it needs
# rustup's llvm-tools (for llvm-profdata) and takes about 7 minutes.
#   bench/pgo.sh                 # writes target/pgo/pooldrill
#   TRAIN=held-out bench/pgo.sh  # train without the three benchmark workloads
# Then: BIN=target/pgo/pooldrill bench/compare.sh
set -euo pipefail
cd "$(dirname "$0")/.."
case ${TRAIN:-all} in
  all | held-out) ;;
  *) echo "pgo.sh: TRAIN must be 'all' or 'held-out', found '$TRAIN'" >&2; exit 2 ;;
esac

host=$(rustc -vV | sed -n 's/^host: //p')
profdata="$(rustc --print sysroot)/lib/rustlib/$host/bin/llvm-profdata"
if [ ! -x "$profdata" ]; then
  echo "pgo.sh: installing rustup's llvm-tools (for llvm-profdata)" >&2
  rustup component add llvm-tools >&2 || {
    echo "pgo.sh: llvm-profdata not found at $profdata and rustup could not install llvm-tools" >&2
    exit 2
  }
fi

work=target/pgo
rm -rf "$work/profiles" "$work/train"
mkdir -p "$work/profiles" "$work/train"

echo "pgo.sh: 1/3 instrumented build" >&2
RUSTFLAGS="-Cprofile-generate=$PWD/$work/profiles" \
  cargo build --release --locked -q --target-dir "$work/gen"
gen="$work/gen/release/pooldrill"

# The training runs: the shipped scenarios, cut short (about a minute in all).
benchmarks="scenarios/after.toml scenarios/theory/mm80.toml scenarios/scale/large-fleet.toml"
train() {
  local scenario=$1; shift
  if [ "${TRAIN:-all}" = held-out ] && [[ " $benchmarks " == *" $scenario "* ]]; then
    return
  fi
  "$gen" -q run "$scenario" "$@" --out "$work/train/$(basename "$scenario" .toml)" >/dev/null
}
echo "pgo.sh: 2/3 training runs (TRAIN=${TRAIN:-all})" >&2
for scenario in scenarios/*.toml; do
  train "$scenario"
done
for scenario in scenarios/theory/*.toml; do
  train "$scenario" --duration 600s
done
train scenarios/scale/large-fleet.toml --duration 70s
"$profdata" merge -o "$work/pooldrill.profdata" "$work/profiles"

echo "pgo.sh: 3/3 optimised build" >&2
RUSTFLAGS="-Cprofile-use=$PWD/$work/pooldrill.profdata" \
  cargo build --release --locked -q --target-dir "$work/use"
cp "$work/use/release/pooldrill" "$work/pooldrill"
echo "$work/pooldrill"
