import type { KernelArgs } from "../../../kernels/contract.js";
import type { ReferenceBackend } from "../index.js";
import { forEachPosition } from "./windows.js";

/**
 * The argmax rule shared by maxPool and maxPoolBackward: scanning the window in row-major
 * order, value v replaces the best so far when v > best, or when v is NaN and best is not
 * (so the first maximum wins ties, and the first NaN wins over numbers).
 */
export function takes(v: number, best: number): boolean {
  return v > best || (Number.isNaN(v) && !Number.isNaN(best));
}

/** Dimensions of a pooling call: x [N,H,W,C], out [N,Ho,Wo,C], window and stride. */
export function poolDims(x: { shape: readonly number[] }, y: { shape: readonly number[] }) {
  const [N, H, W, C] = x.shape;
  const [, Ho, Wo] = y.shape;
  return { N, H, W, C, Ho, Wo };
}

/** The flat index in x of the argmax of output (n, i, j, c)'s window. */
export function windowArgmax(
  X: Float32Array,
  n: number,
  i: number,
  j: number,
  c: number,
  d: { H: number; W: number; C: number },
  window: readonly [number, number],
  stride: readonly [number, number],
): number {
  let best = -1,
    bestValue = Number.NaN;
  for (let di = 0; di < window[0]; di++) {
    for (let dj = 0; dj < window[1]; dj++) {
      const at = ((n * d.H + i * stride[0] + di) * d.W + j * stride[1] + dj) * d.C + c;
      if (best < 0 || takes(X[at], bestValue)) {
        best = at;
        bestValue = X[at];
      }
    }
  }
  return best;
}

/** out[n,i,j,c] = x[argmax of the window] (the maximum; NaN propagating). */
export function maxPool(be: ReferenceBackend, args: KernelArgs["maxPool"]): void {
  const { x: X, out: Y } = be.buffersOf(args);
  const d = poolDims(args.x, args.out);
  forEachPosition(d.N, d.Ho, d.Wo, (n, i, j, p) => {
    for (let c = 0; c < d.C; c++) Y[p * d.C + c] = X[windowArgmax(X, n, i, j, c, d, args.window, args.stride)];
  });
}
