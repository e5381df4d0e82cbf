import { counterUniform } from "../../../core/rng.js";
import type { KernelArgs } from "../../../kernels/contract.js";
import type { ReferenceBackend } from "../index.js";

/** Wb = +-H: det (sign, 0 -> +H) or stoch (+H with probability hard_sigmoid(W/H)). */
export function binarize(be: ReferenceBackend, { w, out, mode, H, key }: KernelArgs["binarize"]): void {
  const W = be.data(w),
    Wb = be.data(out);
  for (let i = 0; i < W.length; i++) {
    if (mode === "det") {
      Wb[i] = W[i] >= 0 ? H : -H;
    } else {
      const p = Math.min(1, Math.max(0, (W[i] / H + 1) / 2));
      Wb[i] = counterUniform(key, i) < p ? H : -H;
    }
  }
}
