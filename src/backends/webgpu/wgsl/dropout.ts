import { elementwiseMain, RNG_WGSL } from "./common.js";

/**
 * dropout: mask[i] = (u(key, i) >= p) / (1 - p); out = x * mask. With u = bits / 2^24,
 * u >= p <=> bits >= ceil(p 2^24) = P.threshold (exact in integers), and P.keep = float32(1/(1-p)):
 * the mask equals the reference's bit for bit, and x * mask is one correctly rounded product.
 */
export const dropoutWgsl = (): string => `${RNG_WGSL}
${elementwiseMain(`  let m = select(0.0, P.keep, counterBits(P.key, i) >= P.threshold);
  mask[i] = m;
  out[i] = x[i] * m;`)}`;
