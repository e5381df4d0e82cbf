/**
 * LeCun local contrast normalization (Jarrett et al. 2009), as pylearn2's lecun_lcn, which the
 * authors' SVHN preprocessing applies after GCN: per image and channel, with a 7x7 Gaussian
 * filter g (sigma 2, normalized to sum 1) and zero padding at the borders,
 *   mean = g * x;  denom = sqrt(g * x^2);  divisor = max(mean over the image of denom, denom, threshold)
 *   x' = (x - mean) / divisor
 * Note: pylearn2 convolves x^2, not the centred (x - mean)^2 of the paper, and so does this.
 * (pylearn2's LeCunLCN.transform also returns after its first channel - a bug; all channels are
 * normalized here, which is what its documentation describes.)
 */

import { lcnImage } from "../format/preprocessSteps.js";

export type { LcnOptions } from "../format/preprocessSteps.js";

/** LCN of one NHWC image (H x W x C floats) at `offset` of `x`, in place (src/format/preprocessSteps.ts, which inference shares). */
export const localContrastNormalize: typeof lcnImage = lcnImage;
