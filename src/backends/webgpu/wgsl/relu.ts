import { elementwiseMain, FLOAT_BITS_WGSL } from "./common.js";

/** relu: out = x where x > 0 or x is NaN, else +0 - on the bits, as the reference's `x <= 0 ? 0 : x`. */
export const reluWgsl = (): string => `${FLOAT_BITS_WGSL}
${elementwiseMain(`  let b = x[i];
  out[i] = select(0u, b, isPositiveBits(b) || isNaNBits(b));`)}`;
