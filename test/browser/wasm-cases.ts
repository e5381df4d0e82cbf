/**
 * The kernel calls of the wasm backend's browser test (test/browser-backend-wasm.test.ts), shared
 * by the page (test/browser/wasm-page/main.ts, bundled by Vite) and by the Node.js side, which
 * runs the same calls on the reference backend and on the wasm backend in Node.js: a product
 * (matmul), a binary-weight product on its lookup-table path (binaryMatmul), an Adam step and a
 * 3x3 convolution, each large enough to be split across two threads (and to grow the memory
 * past its initial 4 MiB). Plain code: no Node.js module, no test framework.
 */
import type { Backend } from "../../src/backends/backend.js";
import { Xoshiro128 } from "../../src/core/rng.js";
import type { Tensor } from "../../src/core/tensor.js";
import type { KernelArgs, KernelName } from "../../src/kernels/contract.js";
import { adamArgs, matmulForm, matmulShapes } from "../kernel-args.js";

export interface Tolerance {
  atol: number;
  rtol: number;
}

export interface BrowserCase<K extends KernelName = KernelName> {
  label: string;
  kernel: K;
  tensors: Record<string, { shape: number[]; init?: (rng: Xoshiro128) => number }>;
  args: (t: Record<string, Tensor>) => KernelArgs[K];
  /** Against the reference backend (as test/wasm-conformance.test.ts: float32 sums of K terms, atol 2e-6 K). */
  tol: Tolerance;
}

const EXACT: Tolerance = { atol: 0, rtol: 0 };
const sums = (K: number, scale = 1): Tolerance => ({ atol: 2e-6 * K * scale, rtol: 1e-5 });
const define = <K extends KernelName>(c: BrowserCase<K>): BrowserCase => c as unknown as BrowserCase;

/** A product op(a).op(b) of [M, K] by [K, N] (+= out with `accumulate`): float32 sums of K terms. */
function matmul(M: number, K: number, N: number, transA: boolean, transB: boolean, accumulate: boolean): BrowserCase {
  const shapes = matmulShapes(M, K, N, transA, transB);
  return define<"matmul">({
    label: `matmul ${M}x${K}x${N} ${matmulForm(transA, transB, accumulate)}`,
    kernel: "matmul",
    tensors: { a: { shape: shapes.a }, b: { shape: shapes.b }, out: { shape: shapes.out } },
    args: ({ a, b, out }) => ({ a, b, out, transA, transB, accumulate }),
    tol: sums(K),
  });
}

export const BROWSER_CASES: BrowserCase[] = [
  matmul(130, 300, 700, false, false, false),
  matmul(13, 300, 21, true, true, true),
  define<"binaryMatmul">({
    label: "binaryMatmul 40x1024x1030 A.Wb^T H=0.7",
    kernel: "binaryMatmul",
    tensors: {
      a: { shape: [40, 1024] },
      wb: { shape: [1030, 1024], init: (rng) => (rng.next() < 0.5 ? -0.7 : 0.7) },
      out: { shape: [40, 1030] },
    },
    args: ({ a, wb, out }) => ({ a, wb, out, transB: true }),
    tol: sums(1024, 0.7),
  }),
  define<"adam">({
    label: "adam n=524291 t=7 clip=0.5 lrScale=3.5",
    kernel: "adam",
    tensors: {
      param: { shape: [524291] },
      grad: { shape: [524291], init: (rng) => rng.uniform(-0.1, 0.1) },
      m: { shape: [524291], init: (rng) => rng.uniform(-0.01, 0.01) },
      v: { shape: [524291], init: (rng) => rng.uniform(0, 1e-3) },
    },
    args: (tensors) => adamArgs(tensors, { lr: 0.003, t: 7, lrScale: 3.5, clip: 0.5 }),
    tol: EXACT,
  }),
  define<"conv2d">({
    label: "conv2d x[4,16,16,32] w[3,3,32,40] stride 1 pad 1",
    kernel: "conv2d",
    tensors: { x: { shape: [4, 16, 16, 32] }, w: { shape: [3, 3, 32, 40] }, out: { shape: [4, 16, 16, 40] } },
    args: ({ x, w, out }) => ({ x, w, out, stride: [1, 1], pad: [1, 1] }),
    tol: sums(3 * 3 * 32),
  }),
];

/** The inputs of case `i` (seeded; default uniform in [-1, 1)). */
export function caseInputs(i: number): Record<string, Float32Array> {
  const rng = new Xoshiro128(4242 + i);
  const values: Record<string, Float32Array> = {};
  for (const [name, { shape, init }] of Object.entries(BROWSER_CASES[i].tensors)) {
    const n = shape.reduce((a, b) => a * b, 1);
    values[name] = Float32Array.from({ length: n }, () => (init ? init(rng) : rng.uniform(-1, 1)));
  }
  return values;
}

/** Runs every case on `be` (all tensors live at once, so the memory grows); every tensor's values afterwards, by case. */
export async function runCases(be: Backend): Promise<Array<Record<string, Float32Array>>> {
  const live = BROWSER_CASES.map((c, i) => {
    const values = caseInputs(i);
    const t: Record<string, Tensor> = {};
    for (const [name, { shape }] of Object.entries(c.tensors)) {
      t[name] = be.alloc(shape);
      be.upload(t[name], values[name]);
    }
    return t;
  });
  const out: Array<Record<string, Float32Array>> = [];
  for (const [i, c] of BROWSER_CASES.entries()) {
    be.run(c.kernel, c.args(live[i]) as never);
    const after: Record<string, Float32Array> = {};
    for (const [name, t] of Object.entries(live[i])) after[name] = await be.read(t);
    out.push(after);
  }
  for (const t of live) for (const x of Object.values(t)) be.dispose(x);
  return out;
}
