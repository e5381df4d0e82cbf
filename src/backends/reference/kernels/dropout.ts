import { counterUniform } from "../../../core/rng.js";
import type { KernelArgs } from "../../../kernels/contract.js";
import type { ReferenceBackend } from "../index.js";

/** Inverted dropout: mask = (u >= p) / (1 - p); out = x * mask. */
export function dropout(be: ReferenceBackend, { x, out, mask, p, key }: KernelArgs["dropout"]): void {
  const X = be.data(x),
    Y = be.data(out),
    Mk = be.data(mask);
  const keep = Math.fround(1 / (1 - p));
  for (let i = 0; i < X.length; i++) {
    Mk[i] = counterUniform(key, i) >= p ? keep : 0;
    Y[i] = X[i] * Mk[i];
  }
}
