import type { KernelArgs } from "../../../kernels/contract.js";
import type { ReferenceBackend } from "../index.js";

/** Adam (Lasagne's form) with the BinaryConnect learning-rate scale and clip. */
export function adam(be: ReferenceBackend, args: KernelArgs["adam"]): void {
  const { lr, beta1, beta2, eps, t, lrScale, clip } = args;
  const P = be.data(args.param), G = be.data(args.grad), Mm = be.data(args.m), V = be.data(args.v);
  const a = (lr * Math.sqrt(1 - beta2 ** t)) / (1 - beta1 ** t);
  for (let i = 0; i < P.length; i++) {
    Mm[i] = beta1 * Mm[i] + (1 - beta1) * G[i];
    V[i] = beta2 * V[i] + (1 - beta2) * G[i] * G[i];
    let p = P[i] - (lrScale * a * Mm[i]) / (Math.sqrt(V[i]) + eps);
    if (clip > 0) p = Math.min(clip, Math.max(-clip, p));
    P[i] = p;
  }
}
