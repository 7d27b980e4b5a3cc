#!/usr/bin/env bash
# Build the page into web/dist/: the simulation core compiled to WebAssembly
# (the `web` profile: release's optimisation without its fat LTO), the HTML,
# CSS and JavaScript, and the charts' font. Serve the folder from any static
# host (docs/browser.md).
#   bash web/build.sh
set -euo pipefail
cd "$(dirname "$0")/.."
rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown \
  || rustup target add wasm32-unknown-unknown
cargo build --quiet --locked -p pooldrill-web --profile web --target wasm32-unknown-unknown
rm -rf web/dist
mkdir -p web/dist
cp web/index.html web/app.js web/charts.js web/worker.js web/style.css web/dist/
cp "${CARGO_TARGET_DIR:-target}"/wasm32-unknown-unknown/web/pooldrill_web.wasm web/dist/
cp assets/DejaVuSans.ttf assets/DejaVuSans.LICENSE web/dist/
echo "web/build.sh: web/dist/ ($(du -sh web/dist | cut -f1)): serve it, then open index.html"
