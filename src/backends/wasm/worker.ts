/**
 * The source of a kernel worker thread, as strings: WORKER_SOURCE for Node.js
 * (`new Worker(WORKER_SOURCE, { eval: true, workerData })`, so it runs the same from TypeScript
 * sources under vitest and from compiled dist/), WEB_WORKER_SOURCE for a Web Worker (loaded
 * from a Blob URL; it gets the same data in its first message). Both run the same loop.
 *
 * A worker instantiates the kernels module on the shared memory, says "ready" once, then
 * loops: it waits for the main thread to bump its sequence word in the control block (see
 * threads.ts) - first spinning for up to `layout.spinMs` (kernel calls come in bursts, and a
 * spinning thread answers in well under a microsecond instead of the ~10 us of a wake-up), then
 * in Atomics.wait; it reads the kernel index and arguments from the control block, runs its
 * share, adds 1 to `done` and notifies. Kernel index -1 means stop: the loop ends and the thread
 * exits (a Web Worker returns to its event loop; the pool terminates it). No message is posted
 * per call.
 *
 * workerData: { module, memory, control (byte offset), index (1..threads-1), names (kernel
 * names by index), layout (CONTROL_LAYOUT) }.
 */
const WORKER_LOOP = `
const exports = new WebAssembly.Instance(module, { env: { memory } }).exports;
const kernels = names.map((name) => exports[name]);
const i32 = new Int32Array(memory.buffer, control, layout.ints);
const f64 = new Float64Array(memory.buffer, control + layout.f64Byte, layout.f64s);
const seqAt = layout.seq + index;
const extraAt = layout.maxCommon + index * layout.maxExtra;
let seen = Atomics.load(i32, seqAt);
ready();
for (;;) {
  let now = Atomics.load(i32, seqAt);
  for (let spin = 1, until = performance.now() + layout.spinMs; now === seen; spin++) {
    if ((spin & 63) === 0 && performance.now() > until) break;
    now = Atomics.load(i32, seqAt);
  }
  if (now === seen) {
    Atomics.wait(i32, seqAt, seen);
    continue;
  }
  seen = now;
  const op = Atomics.load(i32, layout.op);
  if (op < 0) break;
  const nCommon = i32[layout.nCommon], nExtra = i32[layout.nExtra];
  const args = new Array(nCommon + nExtra);
  for (let i = 0; i < nCommon; i++) args[i] = f64[i];
  for (let i = 0; i < nExtra; i++) args[nCommon + i] = f64[extraAt + i];
  try {
    kernels[op](...args);
  } catch (e) {
    Atomics.store(i32, layout.error, index);
  }
  Atomics.add(i32, layout.done, 1);
  Atomics.notify(i32, layout.done);
}
`;

/** A Node.js worker thread (worker_threads, `eval: true`). */
export const WORKER_SOURCE = `
"use strict";
const { parentPort, workerData } = require("node:worker_threads");
const { module, memory, control, index, names, layout } = workerData;
const ready = () => parentPort.postMessage("ready");
${WORKER_LOOP}`;

/** A Web Worker (classic script): the data comes in the first message; the loop runs in its handler. */
export const WEB_WORKER_SOURCE =
  `
"use strict";
self.onmessage = (event) => {
self.onmessage = null;
const { module, memory, control, index, names, layout } = event.data;
const ready = () => self.postMessage("ready");
` +
  WORKER_LOOP +
  `};
`;
