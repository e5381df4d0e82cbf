import { elementwiseMain } from "./common.js";

/**
 * adam (Lasagne's form, BinaryConnect scale and clip), in float32:
 *   m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2;  param -= P.step m / (sqrt(v) + eps)
 *   then, when clip > 0, param = clip(param, -clip, clip)  (NaN stays NaN)
 * P.step = lrScale lr sqrt(1 - b2^t) / (1 - b1^t), computed on the host in float64.
 * The reference computes the same float32 operations; a shader compiler may fuse a multiply and
 * an add, so results agree to a few float32 rounding errors, not bit for bit.
 */
export const adamWgsl = (): string =>
  elementwiseMain(`  let g = grad[i];
  let mNew = P.b1 * m[i] + P.oneMinusB1 * g;
  let vNew = P.b2 * v[i] + P.oneMinusB2 * g * g;
  m[i] = mNew;
  v[i] = vNew;
  var q = param[i] - P.step * mNew / (sqrt(vNew) + P.eps);
  if (P.clip > 0.0) {
    q = select(q, -P.clip, q < -P.clip);
    q = select(q, P.clip, q > P.clip);
  }
  param[i] = q;`);
