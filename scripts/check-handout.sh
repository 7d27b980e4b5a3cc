#!/usr/bin/env bash
# Checks the HTML training handout in a real browser: headless Chromium
# (Debian's `chromium` package) loads the page from disk with the network
# off, and every chart must be drawn — an inline SVG with a size and its
# text, or a decoded PNG. Leaves a screenshot of the top of the page for a
# person to look at.
#
# Usage: scripts/check-handout.sh [HANDOUT.html]
#   Without an argument, writes a fresh handout with `pooldrill report`
#   (built with the test profile, as `cargo test` builds it).
#   SHOT=path.png keeps the screenshot there (default:
#   ${TMPDIR:-/tmp}/pooldrill-handout-check.png).
# Needs: chromium (apt-get install -y chromium). Exit 0: every chart drawn.
set -euo pipefail
cd "$(dirname "$0")/.."

command -v chromium >/dev/null || {
    echo "check-handout: chromium is missing (apt-get install -y chromium)" >&2
    exit 2
}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

handout=${1:-}
if [[ -z $handout ]]; then
    handout=$work/report.html
    cargo run --quiet --locked --profile test -- report --out "$handout"
fi
[[ -f $handout ]] || { echo "check-handout: no file $handout" >&2; exit 2; }

expected=$(grep -c '^<figure>$' "$handout" || true)
if [[ $expected -eq 0 ]]; then
    echo "check-handout: $handout has no chart" >&2
    exit 1
fi

# The page as shipped, plus a script that marks <body> with what it found
# once everything has loaded.
check=$work/check.html
sed 's#</body>#<script>\
window.addEventListener("load", () => {\
  const figures = [...document.querySelectorAll("figure")];\
  const bad = figures.filter(f => {\
    const svg = f.querySelector("svg"), img = f.querySelector("img");\
    if (svg) { const r = svg.getBoundingClientRect();\
      return !(r.width > 300 \&\& r.height > 150 \&\& svg.querySelector("text")); }\
    if (img) return !(img.complete \&\& img.naturalWidth > 300);\
    return true;\
  }).map(f => f.querySelector("figcaption")?.textContent ?? "a figure without caption");\
  document.body.dataset.check = bad.length ? "missing: " + bad.join(" | ") : "drawn " + figures.length;\
});\
</script></body>#' "$handout" >"$check"

browser=(chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run
    --disable-background-networking --disable-component-update --disable-sync
    --proxy-server=127.0.0.1:9 --user-data-dir="$work/profile")
dom=$("${browser[@]}" --virtual-time-budget=20000 --dump-dom "file://$check" 2>/dev/null)
shot=${SHOT:-${TMPDIR:-/tmp}/pooldrill-handout-check.png}
"${browser[@]}" --window-size=1280,4000 --screenshot="$shot" "file://$check" >/dev/null 2>&1 || true

found=$(grep -o 'data-check="[^"]*"' <<<"$dom" | head -1 || true)
if [[ $found == "data-check=\"drawn $expected\"" ]]; then
    echo "check-handout: all $expected charts drawn in Chromium ($(chromium --version 2>/dev/null)); screenshot: $shot"
else
    echo "check-handout: expected $expected charts drawn, found ${found:-no result (the page did not load)}" >&2
    exit 1
fi
