import { COLUMN_REDUCTION_WGSL, columnMain, FLOAT_BITS_WGSL } from "./common.js";

/**
 * batchNormTrain over the rows of x [M, C], one invocation column per channel (common.ts):
 *   mean = sum_m x / M;  variance = sum_m (x - mean)^2 / M   (two passes, as the reference)
 *   r = 1 / (sqrt(variance) + eps) (authors) or 1 / sqrt(variance + eps) (standard)
 *   out = (x - mean) r gamma + beta, then with relu: +0 unless out > 0 or NaN (relu.ts, on the bits)
 *   runningMean += momentum (mean - runningMean)
 *   runningScale += momentum (s - runningScale),  s = sqrt(variance) (authors) or variance M/(M-1) (standard)
 * Float32, as the reference (whose sums run in row order; these reduce in another order, so
 * results agree within float32 rounding).
 */
export const batchNormTrainWgsl = (): string => `${COLUMN_REDUCTION_WGSL}
${FLOAT_BITS_WGSL}
${columnMain(`  let M = P.M;
  let C = P.C;
  let authors = P.authors != 0u;
  var s = 0.0;
  if (valid) {
    for (var m = ly; m < M; m += ROWS) { s += x[m * C + c]; }
  }
  let mu = sumRows(s, lx, ly) / f32(M);
  var q = 0.0;
  if (valid) {
    for (var m = ly; m < M; m += ROWS) { let d = x[m * C + c] - mu; q += d * d; }
  }
  let v = sumRows(q, lx, ly) / f32(M);
  if (valid) {
    let r = select(1.0 / sqrt(v + P.eps), 1.0 / (sqrt(v) + P.eps), authors);
    let g = gamma[c] * r;
    let b = beta[c];
    let relu = P.relu != 0u;
    for (var m = ly; m < M; m += ROWS) {
      let y = (x[m * C + c] - mu) * g + b;
      let bits = bitcast<u32>(y);
      out[m * C + c] = select(y, 0.0, relu && !(isPositiveBits(bits) || isNaNBits(bits)));
    }
    if (ly == 0u) {
      mean[c] = mu;
      variance[c] = v;
      runningMean[c] += P.momentum * (mu - runningMean[c]);
      var scale = v;
      if (authors) { scale = sqrt(v); } else if (M > 1u) { scale = v * f32(M) / f32(M - 1u); }
      runningScale[c] += P.momentum * (scale - runningScale[c]);
    }
  }`)}`;
