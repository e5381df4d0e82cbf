import { COLUMN_REDUCTION_WGSL, columnMain } from "./common.js";

/** columnSum: out[n] = sum_m x[m,n] (float32 partial sums per invocation, then a tree). */
export const columnSumWgsl = (): string => `${COLUMN_REDUCTION_WGSL}
${columnMain(`  var s = 0.0;
  if (valid) {
    for (var m = ly; m < P.M; m += ROWS) { s += x[m * P.C + c]; }
  }
  let total = sumRows(s, lx, ly);
  if (valid && ly == 0u) { out[c] = total; }`)}`;
