import type { KernelArgs } from "../../../kernels/contract.js";
import type { ReferenceBackend } from "../index.js";

/** dx = dy where x > 0, else 0. */
export function reluBackward(be: ReferenceBackend, { x, dy, dx }: KernelArgs["reluBackward"]): void {
  const X = be.data(x),
    dY = be.data(dy),
    dX = be.data(dx);
  for (let i = 0; i < X.length; i++) dX[i] = X[i] > 0 ? dY[i] : 0;
}
