import type { KernelArgs } from "../../../kernels/contract.js";
import type { ReferenceBackend } from "../index.js";
import { poolDims, windowArgmax } from "./maxPool.js";
import { forEachPosition } from "./windows.js";

/** dx = 0; then, outputs in row-major order, dx[argmax of the window] += dy (float32 adds). */
export function maxPoolBackward(be: ReferenceBackend, args: KernelArgs["maxPoolBackward"]): void {
  const { x: X, dy: dY, dx: dX } = be.buffersOf(args);
  const d = poolDims(args.x, args.dy);
  dX.fill(0);
  forEachPosition(d.N, d.Ho, d.Wo, (n, i, j, p) => {
    for (let c = 0; c < d.C; c++) dX[windowArgmax(X, n, i, j, c, d, args.window, args.stride)] += dY[p * d.C + c];
  });
}
