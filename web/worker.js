// The simulation's thread: loads pooldrill_web.wasm and answers the page's
// requests ({id, request} in, {id, answer} out), posting {id, progress}
// while a run goes. The page cancels a run by terminating this worker.
"use strict";

let current = null;
/** A fresh instance of the module: its memory and allocator new. */
function load() {
  return fetch("pooldrill_web.wasm")
    .then(response => response.arrayBuffer())
    .then(bytes => WebAssembly.instantiate(bytes, {
      env: { progress: done => postMessage({ id: current, progress: done }) },
    }))
    .then(({ instance }) => instance.exports);
}
let ready = load();

/** One request through the module's memory (web/src/exports.rs). */
function call(wasm, request) {
  const bytes = new TextEncoder().encode(JSON.stringify(request));
  const at = wasm.pd_alloc(bytes.length);
  new Uint8Array(wasm.memory.buffer, at, bytes.length).set(bytes);
  const packed = wasm.pd_request(at, bytes.length);
  const ptr = Number(packed >> 32n), len = Number(packed & 0xffffffffn);
  const text = new TextDecoder().decode(new Uint8Array(wasm.memory.buffer, ptr, len));
  wasm.pd_free(ptr, len);
  return JSON.parse(text);
}

onmessage = async ({ data }) => {
  let answer;
  try {
    const wasm = await ready;
    current = data.id;
    answer = call(wasm, data.request);
  } catch (e) {
    answer = { error: `the simulator failed: ${e}` };
    // A trap leaves the instance's memory as it was mid-call: start over.
    ready = load();
  }
  postMessage({ id: data.id, answer });
};
