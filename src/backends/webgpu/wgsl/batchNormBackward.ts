import { COLUMN_REDUCTION_WGSL, columnMain, FLOAT_BITS_WGSL } from "./common.js";

/**
 * batchNormBackward, per channel (common.ts). With r as in batchNormTrain, xhat = (x - mean) r,
 * s = sqrt(variance):
 *   dbeta = sum_m dy;  dgamma = sum_m dy xhat
 *   dx = r (gamma dy - gamma dbeta / M) - xhat k,
 *   k = r gamma dgamma / M (standard) or gamma dgamma / (M s) (authors; 0 where s = 0)
 * With relu, dy is first taken as 0 where batchNormTrain's (x - mean) (gamma r) + beta (its
 * shader's form) is not > 0 (on the bits, as reluBackward.ts): the gradient of batchNormTrain with relu.
 */
export const batchNormBackwardWgsl = (): string => `${COLUMN_REDUCTION_WGSL}
${FLOAT_BITS_WGSL}
${columnMain(`  let M = P.M;
  let C = P.C;
  let authors = P.authors != 0u;
  var va = 0.0;
  var mu = 0.0;
  var g = 0.0;
  var b = 0.0;
  if (valid) { va = variance[c]; mu = mean[c]; g = gamma[c]; b = beta[c]; }
  let r = select(1.0 / sqrt(va + P.eps), 1.0 / (sqrt(va) + P.eps), authors);
  let gr = g * r;
  let relu = P.relu != 0u;
  var sDy = 0.0;
  var sDyXhat = 0.0;
  if (valid) {
    for (var m = ly; m < M; m += ROWS) {
      let i = m * C + c;
      let d = select(dy[i], 0.0, relu && !isPositiveBits(bitcast<u32>((x[i] - mu) * gr + b)));
      sDy += d;
      sDyXhat += d * (x[i] - mu) * r;
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
      let d = select(dy[i], 0.0, relu && !isPositiveBits(bitcast<u32>((x[i] - mu) * gr + b)));
      dx[i] = r * (g * d - meanG) - (x[i] - mu) * r * k;
    }
    if (ly == 0u) {
      dbeta[c] = sumDy;
      dgamma[c] = sumDyXhat;
    }
  }`)}`;
