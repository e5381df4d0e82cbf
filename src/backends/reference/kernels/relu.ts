import type { KernelArgs } from "../../../kernels/contract.js";
import type { ReferenceBackend } from "../index.js";

/** out = max(x, 0); NaN stays NaN (so a diverged run is detected, as with IEEE max). */
export function relu(be: ReferenceBackend, { x, out }: KernelArgs["relu"]): void {
  const X = be.data(x),
    Y = be.data(out);
  for (let i = 0; i < X.length; i++) Y[i] = X[i] <= 0 ? 0 : X[i];
}
