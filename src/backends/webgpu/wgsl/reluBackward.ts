import { elementwiseMain, FLOAT_BITS_WGSL } from "./common.js";

/** reluBackward: dx = dy where x > 0, else +0 (on the bits). */
export const reluBackwardWgsl = (): string => `${FLOAT_BITS_WGSL}
${elementwiseMain("  dx[i] = select(0u, dy[i], isPositiveBits(x[i]));")}`;
