#!/usr/bin/env bash
# Checks the browser page (web/) in a real browser: builds web/dist/ with
# web/build.sh, serves it on 127.0.0.1 and drives Debian's headless chromium
# over the DevTools protocol (scripts/check-web.mjs; no other host is
# reached). Each autorun page's <pre id="summary"> must equal, byte for
# byte, the summary.json `pooldrill run` writes for the same scenario,
# duration and --set options; a malformed TOML must be refused with its
# file:line:col; a day-long run must cancel (twice). Records each run's wall
# time in the page (not gated) and keeps a screenshot of the A/B view.
#
# Usage: scripts/check-web.sh
#   SHOT=path.png keeps the screenshot there (default:
#   ${TMPDIR:-/tmp}/pooldrill-web-check.png).
# Needs: chromium, node. Exit 0: every page matched.
set -euo pipefail
cd "$(dirname "$0")/.."

for tool in chromium node; do
    command -v $tool >/dev/null || { echo "check-web: $tool is missing" >&2; exit 2; }
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

bash web/build.sh
# The native binary as `cargo test` builds it.
cargo build --quiet --locked --profile test --bin pooldrill
pooldrill=${CARGO_TARGET_DIR:-target}/debug/pooldrill

recipe="job.pool_mode=shared&job.release=finally&pool.max=6"
bad=$'[meta]\nname = "bad"\nduration = "10m"\n[pool]\nmax = "six"\n'
bad_query="toml=$(node -e 'process.stdout.write(encodeURIComponent(process.argv[1]))' "$bad")&autorun=1"
# Query, then the `pooldrill run` arguments giving the same summary.
cases=(
    "scenario=after&duration=10m&autorun=1" "scenarios/after.toml --duration 10m"
    "scenario=fixed&duration=10m&autorun=1" "scenarios/fixed.toml --duration 10m"
    "scenario=after&duration=10m&$recipe&autorun=1"
    "scenarios/after.toml --duration 10m --set ${recipe//&/ --set }"
    "scenario=after&autorun=1" "scenarios/after.toml"
)
queries=()
for ((i = 0; i < ${#cases[@]}; i += 2)); do queries+=("${cases[i]}"); done
queries+=("$bad_query" "scenario=after&duration=10m&ab=1&autorun=1")

mkdir -p "$work/page"
node scripts/check-web.mjs web/dist "$work/page" "${queries[@]}" | tee "$work/states"

failed=0
for ((i = 0; i < ${#cases[@]}; i += 2)); do
    n=$((i / 2))
    # shellcheck disable=SC2086 # the arguments are words
    "$pooldrill" run ${cases[i + 1]} -q --out "$work/cli-$n" >/dev/null
    if cmp -s "$work/cli-$n/summary.json" "$work/page/$n.json"; then
        echo "check-web: ?${cases[i]}: the same summary as pooldrill run ${cases[i + 1]}"
    else
        echo "check-web: ?${cases[i]}: the page's summary differs from pooldrill run ${cases[i + 1]}:" >&2
        diff "$work/cli-$n/summary.json" "$work/page/$n.json" | head -20 >&2 || true
        failed=1
    fi
done
n=$((${#cases[@]} / 2))
expected='error: pasted.toml:5:7: pool.max: expected an integer, found the string "six"'
if grep -q "^$n [0-9-]* $expected" "$work/states"; then
    echo "check-web: a malformed TOML is refused at pasted.toml:5:7"
else
    echo "check-web: expected the malformed TOML refused with \"$expected\"" >&2
    failed=1
fi
grep -q "^$((n + 1)) [0-9]* done$" "$work/states" || { echo "check-web: the A/B view did not finish" >&2; failed=1; }
if grep -q "^cancel ok$" "$work/states"; then
    echo "check-web: a day-long run was cancelled twice, the page ready again each time"
else
    echo "check-web: cancelling failed: $(grep '^cancel' "$work/states")" >&2
    failed=1
fi
shot=${SHOT:-${TMPDIR:-/tmp}/pooldrill-web-check.png}
cp "$work/page/screenshot.png" "$shot"
elapsed=$(awk '$1 == 3 { print $2 }' "$work/states")
echo "check-web: the 30-minute after.toml took ${elapsed} ms in $(chromium --version 2>/dev/null | head -1); screenshot: $shot"
exit $failed
