// Serves DIST on 127.0.0.1 and drives headless Chromium over the DevTools
// protocol on a pipe (no WebSocket, no other host): opens index.html?QUERY
// for each query given, waits until the page sets
// document.body.dataset.state to "done" or "error: …", writes the page's
// <pre id="summary"> text to OUT/N.json and prints "N ELAPSED_MS
// STATE" per page; saves a screenshot of the last page to
// OUT/screenshot.png; then cancels a day-long run twice and prints
// "cancel ok" (or what went wrong). Used by scripts/check-web.sh:
//   node scripts/check-web.mjs DIST OUT QUERY...
import { spawn } from "node:child_process";
import { readFile, writeFileSync } from "node:fs";
import http from "node:http";
import path from "node:path";

const [dist, out, ...queries] = process.argv.slice(2);
const TYPES = { ".html": "text/html", ".js": "text/javascript", ".css": "text/css", ".wasm": "application/wasm", ".ttf": "font/ttf" };
const root = path.resolve(dist);
const server = http.createServer((req, res) => {
  const name = decodeURIComponent(new URL(req.url, "http://localhost").pathname);
  const file = path.join(root, path.normalize(name));
  if (!file.startsWith(root + path.sep)) { res.writeHead(403); res.end(); return; }
  readFile(file, (err, data) => {
    if (err) { res.writeHead(404); res.end(); return; }
    res.writeHead(200, { "content-type": TYPES[path.extname(file)] || "application/octet-stream" });
    res.end(data);
  });
});
await new Promise(resolve => server.listen(0, "127.0.0.1", resolve));
const base = `http://127.0.0.1:${server.address().port}/index.html`;
const profile = path.join(out, "profile");
const chromium = spawn("chromium", [
  "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
  "--proxy-server=127.0.0.1:9", "--remote-debugging-pipe", `--user-data-dir=${profile}`,
  "about:blank",
], { stdio: ["ignore", "ignore", "ignore", "pipe", "pipe"] });

let nextId = 1, buffered = "";
const waiting = new Map();
chromium.stdio[4].on("data", chunk => {
  buffered += chunk.toString("utf8");
  let end;
  while ((end = buffered.indexOf("\0")) >= 0) {
    const message = JSON.parse(buffered.slice(0, end));
    buffered = buffered.slice(end + 1);
    const p = waiting.get(message.id);
    if (p) {
      waiting.delete(message.id);
      if (message.error) p.reject(new Error(JSON.stringify(message.error)));
      else p.resolve(message.result);
    }
  }
});
function send(method, params = {}, sessionId) {
  const id = nextId++;
  chromium.stdio[3].write(JSON.stringify({ id, method, params, sessionId }) + "\0");
  return new Promise((resolve, reject) => waiting.set(id, { resolve, reject }));
}
const sleep = ms => new Promise(r => setTimeout(r, ms));

async function main() {
  const { targetId } = await send("Target.createTarget", { url: "about:blank" });
  const { sessionId } = await send("Target.attachToTarget", { targetId, flatten: true });
  const page = (method, params) => send(method, params, sessionId);
  const value = async expression =>
    (await page("Runtime.evaluate", { expression, returnByValue: true })).result.value;
  await page("Emulation.setDeviceMetricsOverride", { width: 1400, height: 2200, deviceScaleFactor: 1, mobile: false });
  for (const [n, query] of queries.entries()) {
    await page("Page.navigate", { url: `${base}?${query}` });
    let state = "";
    for (let waited = 0; waited < 120_000; waited += 100) {
      await sleep(100);
      state = (await value("document.body ? document.body.dataset.state || '' : ''")) ?? "";
      if (state === "done" || state.startsWith("error")) break;
    }
    const elapsedMs = await value("document.body.dataset.elapsedMs || ''");
    const summary = await value("document.getElementById('summary')?.textContent ?? ''");
    writeFileSync(path.join(out, `${n}.json`), summary);
    console.log(`${n} ${elapsedMs || "-"} ${state.replace(/\s+/g, " ")}`);
  }
  await sleep(300);
  const { data } = await page("Page.captureScreenshot", { format: "png" });
  writeFileSync(path.join(out, "screenshot.png"), Buffer.from(data, "base64"));
  console.log(`cancel ${await cancels(page, value)}`);
}

/** Start a day-long run, cancel it once it is under way, then start and
 * cancel again (the page's fresh worker must take it): "ok" or what went
 * wrong. */
async function cancels(page, value) {
  await page("Page.navigate", { url: `${base}?scenario=after&duration=24h` });
  const until = async (what, test) => {
    for (let waited = 0; waited < 60_000; waited += 50) {
      if (await value(test)) return true;
      await sleep(50);
    }
    throw new Error(`cancel: timed out waiting for ${what}`);
  };
  await until("the page", "document.body.dataset.state === 'ready'");
  for (let round = 1; round <= 2; round++) {
    await value("document.getElementById('run').click()");
    await until("progress", "document.getElementById('progress').value > 0");
    await value("document.getElementById('cancel').click()");
    await until("the cancel", "document.body.dataset.state === 'cancelled'");
    if (await value("document.getElementById('run').disabled")) return `round ${round}: Run stays disabled`;
  }
  return "ok";
}

main()
  .then(() => { chromium.kill(); server.close(); process.exit(0); })
  .catch(e => { console.error(`check-web.mjs: ${e.message}`); chromium.kill(); process.exit(2); });
