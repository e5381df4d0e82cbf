// In-page checks of the webgpu backend (served as is to Chromium by test/webgpu-browser.test.ts):
// the built ES modules from dist/, navigator.gpu, and a few kernels against the reference backend.
/**
 * Runs in the page: each check runs one kernel on webgpu and on the reference backend from the
 * same inputs and returns the worst |webgpu - ref| - (atol + rtol |ref|) per check (<= 0: ok).
 */
export async function runChecks(base) {
  const { WebGpuBackend } = await import(`${base}/dist/src/backends/webgpu/index.js`);
  const { ReferenceBackend } = await import(`${base}/dist/src/backends/reference/index.js`);
  let seed = 12345;
  const rnd = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32) * 2 - 1;
  const checks = {
    "matmul 13x300x21 A^T.B^T +=": { kernel: "matmul", shapes: { a: [300, 13], b: [21, 300], out: [13, 21] }, atol: 6e-4, rtol: 1e-5,
      args: (t) => ({ ...t, transA: true, transB: true, accumulate: true }) },
    "matmul 70x33x130 A.B": { kernel: "matmul", shapes: { a: [70, 33], b: [33, 130], out: [70, 130] }, atol: 7e-5, rtol: 1e-5,
      args: (t) => ({ ...t, transA: false, transB: false, accumulate: false }) },
    "binarize stoch (bit-exact)": { kernel: "binarize", shapes: { w: [5003], out: [5003] }, atol: 0, rtol: 0,
      args: (t) => ({ ...t, mode: "stoch", H: 0.0427, key: 0xdeadbeef }) },
    "dropout (bit-exact)": { kernel: "dropout", shapes: { x: [1001], out: [1001], mask: [1001] }, atol: 0, rtol: 0,
      args: (t) => ({ ...t, p: 0.3, key: 77 }) },
    "batchNormTrain authors": { kernel: "batchNormTrain", atol: 2e-5, rtol: 1e-5,
      shapes: { x: [33, 40], gamma: [40], beta: [40], out: [33, 40], mean: [40], variance: [40], runningMean: [40], runningScale: [40] },
      args: (t) => ({ ...t, variant: "authors", eps: 1e-4, momentum: 0.1 }) },
    "conv2d 3x3 stride 2 pad 1": { kernel: "conv2d", shapes: { x: [2, 7, 6, 5], w: [3, 3, 5, 7], out: [2, 4, 3, 7] }, atol: 1e-4, rtol: 1e-5,
      args: (t) => ({ ...t, stride: [2, 2], pad: [1, 1] }) },
    "maxPoolBackward 3x3 stride 2 (exact)": { kernel: "maxPoolBackward", shapes: { x: [1, 7, 6, 5], dy: [1, 3, 2, 5], dx: [1, 7, 6, 5] }, atol: 0, rtol: 0,
      args: (t) => ({ ...t, window: [3, 3], stride: [2, 2] }) },
  };
  const be = await WebGpuBackend.create();
  const ref = new ReferenceBackend();
  const excess = {};
  for (const [name, c] of Object.entries(checks)) {
    const values = Object.fromEntries(Object.entries(c.shapes).map(([k, s]) => [k, Float32Array.from({ length: s.reduce((a, b) => a * b, 1) }, rnd)]));
    const results = [];
    for (const b of [be, ref]) {
      const t = {};
      for (const [k, s] of Object.entries(c.shapes)) {
        t[k] = b.alloc(s);
        b.upload(t[k], values[k]);
      }
      b.run(c.kernel, c.args(t));
      results.push(await Promise.all(Object.keys(c.shapes).map((k) => b.read(t[k]))));
    }
    let worst = -Infinity;
    results[0].forEach((got, j) => {
      const want = results[1][j];
      for (let i = 0; i < want.length; i++) {
        const e = Object.is(got[i], want[i]) ? -1 : Math.abs(got[i] - want[i]) - (c.atol + c.rtol * Math.abs(want[i]));
        worst = Math.max(worst, Number.isNaN(e) ? Infinity : e);
      }
    });
    excess[name] = worst;
  }
  const description = be.description;
  await be.close();
  return { description, excess };
}

