import type { KernelArgs } from "../../../kernels/contract.js";
import type { ReferenceBackend } from "../index.js";
import { convDims } from "../../../kernels/convDims.js";
import { forEachPosition, forEachTap } from "./windows.js";

/**
 * out[n,i,j,co] = sum_{ki,kj,ci} x[n, i sh - ph + ki, j sw - pw + kj, ci] w[ki,kj,ci,co]
 * (padding positions contribute 0). Sums in float64, in (ki, kj, ci) order.
 */
export function conv2d(be: ReferenceBackend, args: KernelArgs["conv2d"]): void {
  const { x: X, w: Wt, out: Y } = be.buffersOf(args);
  const d = convDims(args.x, args.w, args.out, args.stride, args.pad);
  const { C, Co } = d;
  const acc = new Float64Array(Co);
  forEachPosition(d.N, d.Ho, d.Wo, (n, i, j, p) => {
    acc.fill(0);
    forEachTap(d, n, i, j, (xAt, wAt) => {
      for (let ci = 0; ci < C; ci++) {
        const v = X[xAt + ci],
          wRow = wAt + ci * Co;
        for (let co = 0; co < Co; co++) acc[co] += v * Wt[wRow + co];
      }
    });
    Y.set(acc, p * Co);
  });
}
