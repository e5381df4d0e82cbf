import { COLUMN_REDUCTION_WGSL, columnMain, elementwiseMain, FLOAT_BITS_WGSL } from "./common.js";

/**
 * batchNormBackward, per channel (common.ts). With r as in batchNormTrain, xhat = (x - mean) r,
 * s = sqrt(variance):
 *   dbeta = sum_m dy;  dgamma = sum_m dy xhat
 *   dx = r (gamma dy - gamma dbeta / M) - xhat k,
 *   k = r gamma dgamma / M (standard) or gamma dgamma / (M s) (authors; 0 where s = 0)
 */
export const batchNormBackwardWgsl = (): string => `${COLUMN_REDUCTION_WGSL}
${columnMain(`  let M = P.M;
  let C = P.C;
  let authors = P.authors != 0u;
  var va = 0.0;
  var mu = 0.0;
  var g = 0.0;
  if (valid) { va = variance[c]; mu = mean[c]; g = gamma[c]; }
  let r = select(1.0 / sqrt(va + P.eps), 1.0 / (sqrt(va) + P.eps), authors);
  var sDy = 0.0;
  var sDyXhat = 0.0;
  if (valid) {
    for (var m = ly; m < M; m += ROWS) {
      let i = m * C + c;
      sDy += dy[i];
      sDyXhat += dy[i] * (x[i] - mu) * r;
    }
  }
  let sumDy = sumRows(sDy, lx, ly);
  let sumDyXhat = sumRows(sDyXhat, lx, ly);
  if (valid) {
    let meanG = g * sumDy / f32(M);
    let meanGXhat = g * sumDyXhat / f32(M);
    let s = sqrt(va);
    var k = r * meanGXhat;
    if (authors) { k = select(0.0, meanGXhat / s, s > 0.0); }
    for (var m = ly; m < M; m += ROWS) {
      let i = m * C + c;
      dx[i] = r * (g * dy[i] - meanG) - (x[i] - mu) * r * k;
    }
    if (ly == 0u) {
      dbeta[c] = sumDy;
      dgamma[c] = sumDyXhat;
    }
  }`)}`;

/**
 * The first pass of batchNormBackward with relu, one invocation per element i of x [M, C]
 * (c = i % C): masked = dy where batchNormTrain's value before its ReLU, (x - mean) (gamma r) +
 * beta (that shader's form), is > 0 (on the bits, as reluBackward.ts), else +0. The
 * backward above then runs on masked: the program stays within 8 storage buffers.
 */
export const batchNormReluMaskWgsl = (): string => `${FLOAT_BITS_WGSL}
${elementwiseMain(`  let c = i % P.C;
  let va = variance[c];
  let r = select(1.0 / sqrt(va + P.eps), 1.0 / (sqrt(va) + P.eps), P.authors != 0u);
  let y = (x[i] - mean[c]) * (gamma[c] * r) + beta[c];
  masked[i] = select(0.0, dy[i], isPositiveBits(bitcast<u32>(y)));`)}`;
