import type { KernelArgs } from "../../../kernels/contract.js";
import type { ReferenceBackend } from "../index.js";
import { convDims } from "../../../kernels/convDims.js";
import { forEachPosition, forEachTap } from "./windows.js";

/** dw[ki,kj,ci,co] = sum_{n,i,j} x[n, i sh - ph + ki, j sw - pw + kj, ci] dy[n,i,j,co] (float64 sums). */
export function conv2dBackwardFilter(be: ReferenceBackend, args: KernelArgs["conv2dBackwardFilter"]): void {
  const { x: X, dy: dY, dw: dW } = be.buffersOf(args);
  const d = convDims(args.x, args.dw, args.dy, args.stride, args.pad);
  const { C, Co } = d;
  const acc = new Float64Array(dW.length);
  forEachPosition(d.N, d.Ho, d.Wo, (n, i, j, p) => {
    const dyAt = p * Co;
    forEachTap(d, n, i, j, (xAt, wAt) => {
      for (let ci = 0; ci < C; ci++) {
        const v = X[xAt + ci],
          wRow = wAt + ci * Co;
        for (let co = 0; co < Co; co++) acc[wRow + co] += v * dY[dyAt + co];
      }
    });
  });
  dW.set(acc);
}
