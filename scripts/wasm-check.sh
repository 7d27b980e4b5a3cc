#!/usr/bin/env bash
# The browser build computes what the native one does: core/examples/figures.rs
# runs a small incident through the simulation core and prints its summary as
# JSON; this builds it natively and for wasm32-unknown-unknown, runs the wasm
# under node (WebAssembly is built in), and compares the two byte for byte.
#   bash scripts/wasm-check.sh
set -euo pipefail
cd "$(dirname "$0")/.."
command -v node >/dev/null || { echo "wasm-check.sh: node is needed" >&2; exit 2; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

cargo run -q --release --locked -p pooldrill-core --example figures >"$out/native.json"
cargo build -q --release --locked -p pooldrill-core --example figures --target wasm32-unknown-unknown
node - target/wasm32-unknown-unknown/release/examples/figures.wasm >"$out/wasm.json" <<'JS'
const fs = require("fs");
const module = new WebAssembly.Module(fs.readFileSync(process.argv[2]));
const { exports } = new WebAssembly.Instance(module, {});
const at = exports.figures();
const bytes = new Uint8Array(exports.memory.buffer, Number(at >> 32n), Number(at & 0xffffffffn));
process.stdout.write(Buffer.from(bytes));
JS
if ! cmp -s "$out/native.json" "$out/wasm.json"; then
  echo "wasm-check.sh: the wasm build's summary differs from the native one:" >&2
  diff "$out/native.json" "$out/wasm.json" >&2 || true
  exit 1
fi
echo "wasm-check.sh: the same summary natively and in wasm ($(wc -c <"$out/native.json") bytes)"
