import type { KernelArgs } from "../../../kernels/contract.js";
import type { ReferenceBackend } from "../index.js";
import { poolDims, windowArgmax } from "./maxPool.js";

/** dx = 0; then, outputs in row-major order, dx[argmax of the window] += dy (float32 adds). */
export function maxPoolBackward(
  be: ReferenceBackend,
  { x, dy, dx, window, stride }: KernelArgs["maxPoolBackward"],
): void {
  const X = be.data(x),
    dY = be.data(dy),
    dX = be.data(dx);
  const d = poolDims(x, dy);
  dX.fill(0);
  for (let n = 0; n < d.N; n++) {
    for (let i = 0; i < d.Ho; i++) {
      for (let j = 0; j < d.Wo; j++) {
        for (let c = 0; c < d.C; c++)
          dX[windowArgmax(X, n, i, j, c, d, window, stride)] += dY[((n * d.Ho + i) * d.Wo + j) * d.C + c];
      }
    }
  }
}
