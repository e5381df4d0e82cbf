import type { KernelArgs } from "../../../kernels/contract.js";
import type { ReferenceBackend } from "../index.js";

/** Square hinge loss, its gradient, and the accumulated [loss * M, errors] metrics. */
export function squareHingeLoss(
  be: ReferenceBackend,
  { logits, labels, grad, metrics }: KernelArgs["squareHingeLoss"],
): void {
  const Y = be.data(logits),
    L = be.data(labels),
    met = be.data(metrics);
  const G = grad ? be.data(grad) : null;
  const [M, K] = logits.shape;
  let loss = 0,
    errors = 0;
  for (let m = 0; m < M; m++) {
    let best = 0;
    for (let k = 0; k < K; k++) {
      const y = Y[m * K + k];
      const t = k === L[m] ? 1 : -1;
      const h = Math.max(0, 1 - t * y);
      loss += h * h;
      if (G) G[m * K + k] = (-2 * t * h) / (M * K);
      if (y > Y[m * K + best]) best = k;
    }
    if (best !== L[m]) errors++;
  }
  met[0] += loss / K;
  met[1] += errors;
}
