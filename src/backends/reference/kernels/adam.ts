import type { KernelArgs } from "../../../kernels/contract.js";
import { adamConstants } from "../../../kernels/adamConstants.js";
import type { ReferenceBackend } from "../index.js";

const f = Math.fround;

/**
 * Adam (Lasagne's form, Kingma & Ba) with the BinaryConnect learning-rate scale and clip
 * (paper 2.4), in float32 arithmetic like the authors' Theano code (floatX = float32):
 *   m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2
 *   param = param - step m / (sqrt(v) + eps),  step = lrScale lr sqrt(1 - b2^t) / (1 - b1^t)
 *   then, when clip > 0, param = clip(param, -clip, clip)
 * step is computed in float64 and rounded once; every other operation is one float32 operation
 * (a float64 operation on float32 values, rounded to float32: the same result, since 53 >= 2*24+2
 * bits), in this order and without fused multiply-adds. Fast backends match it bit for bit.
 */
export function adam(be: ReferenceBackend, args: KernelArgs["adam"]): void {
  const { lr, beta1, beta2, eps, t, lrScale, clip } = args;
  const P = be.data(args.param),
    G = be.data(args.grad),
    Mm = be.data(args.m),
    V = be.data(args.v);
  const c = adamConstants(lr, beta1, beta2, eps, t, lrScale, clip);
  for (let i = 0; i < P.length; i++) {
    const g = G[i];
    const m = f(f(c.b1 * Mm[i]) + f(c.oneMinusB1 * g));
    const v = f(f(c.b2 * V[i]) + f(f(c.oneMinusB2 * g) * g));
    Mm[i] = m;
    V[i] = v;
    let p = f(P[i] - f(f(c.step * m) / f(f(Math.sqrt(v)) + c.eps)));
    if (c.clip > 0) p = Math.min(c.clip, Math.max(-c.clip, p));
    P[i] = p;
  }
}
