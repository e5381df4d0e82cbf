import { tensorFrom } from "../src/backends/backend.js";
import { BinaryConnectError } from "../src/core/errors.js";
import { Xoshiro128 } from "../src/core/rng.js";
import { withBackend, type EngineOptions } from "./options.js";
import { matmulFlops } from "./spec.js";
import { timeIt, type Timing, type TimingOptions } from "./stats.js";

/**
 * The three matrix products of one 1024 -> 1024 layer's training step at batch 200
 * (each 2 * 200 * 1024 * 1024 FLOPs), as src/nn/dense.ts runs them:
 *   A.B    forward  y[200,1024]  = x[200,1024] . Wb[1024,1024]
 *   A^T.B  weights  dW[1024,1024] = x^T . dy,      x, dy: [200,1024]
 *   A.B^T  inputs   dx[200,1024]  = dy[200,1024] . Wb^T
 */
export const MATMUL_FORMS = [
  { form: "A.B", a: [200, 1024], b: [1024, 1024], transA: false, transB: false },
  { form: "A^T.B", a: [200, 1024], b: [200, 1024], transA: true, transB: false },
  { form: "A.B^T", a: [200, 1024], b: [1024, 1024], transA: false, transB: true },
] as const;
export type MatmulForm = (typeof MATMUL_FORMS)[number]["form"];

export const MATMUL_FLOPS = matmulFlops(200, 1024, 1024);

export interface MatmulResult {
  readonly form: MatmulForm;
  /** Seconds per product. */
  readonly timing: Timing;
}

/** Random matrices, uniform in [-1, 1), for one form: [a, b] as row-major arrays. */
function operands(form: (typeof MATMUL_FORMS)[number], seed: number): [Float32Array, Float32Array] {
  const rng = new Xoshiro128(seed);
  const fill = (n: number) => Float32Array.from({ length: n }, () => rng.uniform(-1, 1));
  return [fill(form.a[0] * form.a[1]), fill(form.b[0] * form.b[1])];
}

/** out[i,j] of op(a).op(b) computed in float64 on the host (for the sanity check). */
function hostEntry(
  form: (typeof MATMUL_FORMS)[number],
  a: Float32Array,
  b: Float32Array,
  i: number,
  j: number,
): number {
  const [ar, ac] = form.a;
  const [, bc] = form.b;
  const K = form.transA ? ar : ac;
  let s = 0;
  for (let k = 0; k < K; k++) {
    const av = form.transA ? a[k * ac + i] : a[i * ac + k];
    const bv = form.transB ? b[j * bc + k] : b[k * bc + j];
    s += av * bv;
  }
  return s;
}

/**
 * Checks 64 entries of the product against the host, so a fast but wrong kernel cannot
 * report a figure (tolerance: 1e-4 * (sum |a_k b_k|) + 1e-5).
 */
function checkProduct(
  form: (typeof MATMUL_FORMS)[number],
  a: Float32Array,
  b: Float32Array,
  out: Float32Array,
  label: string,
): void {
  const [M, N] = outShape(form);
  const rng = new Xoshiro128(7);
  const absA = a.map(Math.abs),
    absB = b.map(Math.abs);
  for (let s = 0; s < 64; s++) {
    const i = Math.floor(rng.next() * M),
      j = Math.floor(rng.next() * N);
    const ref = hostEntry(form, a, b, i, j);
    const abs = hostEntry(form, absA, absB, i, j);
    const got = out[i * N + j];
    if (!(Math.abs(got - ref) <= 1e-4 * abs + 1e-5)) {
      throw new BinaryConnectError(
        `${label}: out[${i},${j}] = ${got}, expected ${ref} (from the host); the kernel is wrong, its speed is not reported`,
        "run the cross-backend tests: npm test",
      );
    }
  }
}

function outShape(form: (typeof MATMUL_FORMS)[number]): [number, number] {
  return [form.transA ? form.a[1] : form.a[0], form.transB ? form.b[0] : form.b[1]];
}

/** Times each form on our engine's backend with `threads` threads (one product per repetition). */
export function benchEngineMatmul(opts: EngineOptions, threads: number): Promise<MatmulResult[]> {
  const { timing } = opts;
  return withBackend(opts, threads, async (backend) => {
    const results: MatmulResult[] = [];
    for (const [f, form] of MATMUL_FORMS.entries()) {
      const [ha, hb] = operands(form, 100 + f);
      const a = tensorFrom(backend, form.a, ha),
        b = tensorFrom(backend, form.b, hb);
      const out = backend.alloc(outShape(form));
      const args = { a, b, out, transA: form.transA, transB: form.transB, accumulate: false };
      backend.run("matmul", args);
      checkProduct(form, ha, hb, await backend.read(out), `${backend.description} matmul ${form.form}`);
      // A tiny read ends each repetition: on an asynchronous (GPU) backend it completes only
      // after the queued product, so the whole product is counted.
      const probe = backend.alloc([1]);
      const t = await timeIt(async () => {
        backend.run("matmul", args);
        await backend.read(probe);
      }, timing);
      results.push({ form: form.form, timing: t });
      for (const x of [a, b, out, probe]) backend.dispose(x);
    }
    return results;
  });
}

/**
 * Peer: the same products with tfjs-wasm's matMul (XNNPACK, 1 thread in Node), using its
 * transposeA / transposeB flags - the transposed forms are its slow path (measured in docs/RESULTS.md, "Matrix products").
 */
export async function benchTfjsMatmul(timing: TimingOptions): Promise<MatmulResult[]> {
  const { loadTfjs } = await import("./peers/tfjs-load.js");
  const tf = await loadTfjs("wasm");
  const results: MatmulResult[] = [];
  for (const [f, form] of MATMUL_FORMS.entries()) {
    const [ha, hb] = operands(form, 100 + f);
    const a = tf.tensor2d(ha, [form.a[0], form.a[1]]),
      b = tf.tensor2d(hb, [form.b[0], form.b[1]]);
    const product = () => tf.matMul(a, b, form.transA, form.transB);
    const first = product();
    checkProduct(form, ha, hb, (await first.data()) as Float32Array, `tfjs-wasm matMul ${form.form}`);
    first.dispose();
    // tfjs-wasm runs a kernel synchronously inside the call: no read is needed to count it.
    const t = await timeIt(async () => product().dispose(), timing);
    results.push({ form: form.form, timing: t });
    tf.dispose([a, b]);
  }
  return results;
}
