import { tensorFrom } from "../src/backends/backend.js";
import type { MatmulTileName } from "../src/backends/webgpu/kernels/gemm.js";
import type { WebGpuBackend } from "../src/backends/webgpu/index.js";
import { BinaryConnectError } from "../src/core/errors.js";
import { Xoshiro128 } from "../src/core/rng.js";
import { summarize, timeIt, type Timing, type TimingOptions } from "./stats.js";

/** A matrix product of the GPU suite: out[M,N] = op(a) . op(b). */
export interface GpuMatmulShape {
  readonly form: "A.B" | "A^T.B" | "A.B^T";
  readonly M: number;
  readonly K: number;
  readonly N: number;
}

/**
 * The products: 4096^3, and an MNIST layer at batch 200 (200x1024x1024) in the three
 * forms of its training step (forward, weight gradient, input gradient). --quick: small
 * stand-ins that a software adapter runs in seconds.
 */
export function gpuMatmulShapes(quick: boolean): GpuMatmulShape[] {
  const [big, m, k] = quick ? [256, 50, 128] : [4096, 200, 1024];
  return [
    { form: "A.B", M: big, K: big, N: big },
    { form: "A.B", M: m, K: k, N: k },
    { form: "A^T.B", M: k, K: m, N: k },
    { form: "A.B^T", M: m, K: k, N: k },
  ];
}

export const shapeLabel = (s: GpuMatmulShape) => `${s.M}x${s.K}x${s.N} ${s.form}`;
export const matmulFlops = (s: GpuMatmulShape) => 2 * s.M * s.K * s.N;

/** [rows, cols] of a and b for a form. */
function operandShapes(s: GpuMatmulShape): [[number, number], [number, number]] {
  return [s.form === "A^T.B" ? [s.K, s.M] : [s.M, s.K], s.form === "A.B^T" ? [s.N, s.K] : [s.K, s.N]];
}

/**
 * Seconds per product of `s` on `be` with its tile choice. A product is short next to a
 * round trip to the GPU, so a timed repetition records `inner` products and then waits for
 * the GPU (`sync`); `inner` grows until a repetition lasts >= 20 ms. PyTorch is timed the same
 * way (bench/peers/torch_gpu.py). The result is checked first against the host on 64 entries.
 */
export async function timeOurMatmul(
  be: WebGpuBackend,
  s: GpuMatmulShape,
  timing: TimingOptions,
): Promise<{ timing: Timing; inner: number }> {
  const [aShape, bShape] = operandShapes(s);
  const rng = new Xoshiro128(11);
  const fill = (n: number) => Float32Array.from({ length: n }, () => rng.uniform(-1, 1));
  const ha = fill(aShape[0] * aShape[1]),
    hb = fill(bShape[0] * bShape[1]);
  const a = tensorFrom(be, aShape, ha),
    b = tensorFrom(be, bShape, hb),
    out = be.alloc([s.M, s.N]);
  const args = { a, b, out, transA: s.form === "A^T.B", transB: s.form === "A.B^T", accumulate: false };
  try {
    be.run("matmul", args);
    check(s, ha, hb, await be.read(out), be.description);
    const batch = (inner: number) => async () => {
      for (let i = 0; i < inner; i++) be.run("matmul", args);
      await be.sync();
    };
    let inner = 1;
    for (;;) {
      const t0 = performance.now();
      await batch(inner)();
      if (performance.now() - t0 >= 20 || inner >= 4096) break;
      inner *= 4;
    }
    const t = await timeIt(batch(inner), timing);
    return {
      timing: summarize(
        t.seconds.map((x) => x / inner),
        t.repsPerRun,
      ),
      inner,
    };
  } finally {
    for (const x of [a, b, out]) be.dispose(x);
  }
}

/** 64 sampled entries against float64 on the host: a fast wrong kernel reports no figure. */
function check(s: GpuMatmulShape, a: Float32Array, b: Float32Array, out: Float32Array, what: string): void {
  const rng = new Xoshiro128(7);
  const aAt = (i: number, k: number) => (s.form === "A^T.B" ? a[k * s.M + i] : a[i * s.K + k]);
  const bAt = (k: number, j: number) => (s.form === "A.B^T" ? b[j * s.K + k] : b[k * s.N + j]);
  for (let n = 0; n < 64; n++) {
    const i = Math.floor(rng.next() * s.M),
      j = Math.floor(rng.next() * s.N);
    let ref = 0,
      abs = 0;
    for (let k = 0; k < s.K; k++) {
      ref += aAt(i, k) * bAt(k, j);
      abs += Math.abs(aAt(i, k) * bAt(k, j));
    }
    const got = out[i * s.N + j];
    if (!(Math.abs(got - ref) <= 1e-4 * abs + 1e-5)) {
      throw new BinaryConnectError(
        `${what} matmul ${shapeLabel(s)}: out[${i},${j}] = ${got}, expected ${ref}; the kernel is wrong, its speed is not reported`,
        "run the webgpu conformance tests: npx vitest run test/webgpu-conformance.test.ts",
      );
    }
  }
}

/** The tiles measured besides "auto" (so that one run on the GPU shows which is best where). */
export const FORCED_TILES: readonly MatmulTileName[] = ["128x128", "64x64", "32x32"];
