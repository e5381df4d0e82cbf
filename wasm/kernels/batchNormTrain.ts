import { channelArray, invStd } from "./batchNormShared";
import { loadF32x2, storeF32x2, zeroF64 } from "./columns";

/**
 * batchNormTrain (contract), channels [c0, c1) of x: [M,C]:
 *   mean = (1/M) sum_m x;  variance = (1/M) sum_m (x - mean)^2
 *   out = (x - mean) * r * gamma + beta,  r = 1/(sqrt(variance) + eps) (authors) | 1/sqrt(variance + eps)
 *   runningMean += momentum (mean - runningMean)
 *   runningScale += momentum (sqrt(variance) - runningScale)            (authors)
 *                 | momentum (variance M/(M-1) - runningScale)          (standard)
 * Every step is float64, in the reference's order, so the result equals the reference. The
 * rows are streamed three times (sum, squared deviation, output); `scratch` holds two float64
 * arrays over the channels (16 bytes per channel).
 */
export function batchNormTrain(
  x: usize, gamma: usize, beta: usize, out: usize, mean: usize, variance: usize,
  runningMean: usize, runningScale: usize, M: i32, C: i32, authors: bool, eps: f64, momentum: f64,
  c0: i32, c1: i32, scratch: usize,
): void {
  const mu = channelArray(scratch, 0, c0, c1), r = channelArray(scratch, 1, c0, c1);
  zeroF64(mu, c0, c1);
  zeroF64(r, c0, c1);
  sumRows(x, M, C, c0, c1, mu);
  for (let c = c0; c < c1; c++) store<f64>(mu + (<usize>c << 3), load<f64>(mu + (<usize>c << 3)) / <f64>M);
  sumSquaredDeviations(x, M, C, c0, c1, mu, r);
  for (let c = c0; c < c1; c++) {
    const m = load<f64>(mu + (<usize>c << 3));
    const v = load<f64>(r + (<usize>c << 3)) / <f64>M;
    store<f64>(r + (<usize>c << 3), invStd(authors, v, eps));
    const p = <usize>c << 2;
    store<f32>(mean + p, <f32>m);
    store<f32>(variance + p, <f32>v);
    const rm = <f64>load<f32>(runningMean + p);
    store<f32>(runningMean + p, <f32>(rm + momentum * (m - rm)));
    const scale = authors ? Math.sqrt(v) : M > 1 ? (v * <f64>M) / <f64>(M - 1) : v;
    const rs = <f64>load<f32>(runningScale + p);
    store<f32>(runningScale + p, <f32>(rs + momentum * (scale - rs)));
  }
  normalize(x, gamma, beta, out, M, C, c0, c1, mu, r);
}

/**
 * acc[c] += sum_m x[m,c], in row order as the reference. Four rows at a time: each pair of
 * sums is loaded once, takes the four rows' values one after the other, and is stored once.
 */
function sumRows(x: usize, M: i32, C: i32, c0: i32, c1: i32, acc: usize): void {
  const stride = <usize>C << 2;
  let m = 0;
  for (; m + 4 <= M; m += 4) {
    const row = x + <usize>m * stride;
    let c = c0;
    for (; c + 2 <= c1; c += 2) {
      const a = acc + (<usize>c << 3), p = row + (<usize>c << 2);
      let s = f64x2.add(v128.load(a), loadF32x2(p));
      s = f64x2.add(s, loadF32x2(p + stride));
      s = f64x2.add(s, loadF32x2(p + 2 * stride));
      v128.store(a, f64x2.add(s, loadF32x2(p + 3 * stride)));
    }
    if (c < c1) {
      const a = acc + (<usize>c << 3), p = row + (<usize>c << 2);
      let s = load<f64>(a) + <f64>load<f32>(p);
      s += <f64>load<f32>(p + stride);
      s += <f64>load<f32>(p + 2 * stride);
      store<f64>(a, s + <f64>load<f32>(p + 3 * stride));
    }
  }
  for (; m < M; m++) {
    const row = x + <usize>m * stride;
    let c = c0;
    for (; c + 2 <= c1; c += 2) {
      const a = acc + (<usize>c << 3);
      v128.store(a, f64x2.add(v128.load(a), loadF32x2(row + (<usize>c << 2))));
    }
    if (c < c1) {
      const a = acc + (<usize>c << 3);
      store<f64>(a, load<f64>(a) + <f64>load<f32>(row + (<usize>c << 2)));
    }
  }
}

/** acc[c] += sum_m (x[m,c] - mu[c])^2, in row order, four rows at a time as sumRows. */
function sumSquaredDeviations(x: usize, M: i32, C: i32, c0: i32, c1: i32, mu: usize, acc: usize): void {
  const stride = <usize>C << 2;
  let m = 0;
  for (; m + 4 <= M; m += 4) {
    const row = x + <usize>m * stride;
    let c = c0;
    for (; c + 2 <= c1; c += 2) {
      const a = acc + (<usize>c << 3), p = row + (<usize>c << 2), u = v128.load(mu + (<usize>c << 3));
      const d0 = f64x2.sub(loadF32x2(p), u), d1 = f64x2.sub(loadF32x2(p + stride), u);
      const d2 = f64x2.sub(loadF32x2(p + 2 * stride), u), d3 = f64x2.sub(loadF32x2(p + 3 * stride), u);
      let s = f64x2.add(v128.load(a), f64x2.mul(d0, d0));
      s = f64x2.add(s, f64x2.mul(d1, d1));
      s = f64x2.add(s, f64x2.mul(d2, d2));
      v128.store(a, f64x2.add(s, f64x2.mul(d3, d3)));
    }
    if (c < c1) {
      const a = acc + (<usize>c << 3), p = row + (<usize>c << 2), u = load<f64>(mu + (<usize>c << 3));
      const d0 = <f64>load<f32>(p) - u, d1 = <f64>load<f32>(p + stride) - u;
      const d2 = <f64>load<f32>(p + 2 * stride) - u, d3 = <f64>load<f32>(p + 3 * stride) - u;
      store<f64>(a, load<f64>(a) + d0 * d0 + d1 * d1 + d2 * d2 + d3 * d3);
    }
  }
  for (; m < M; m++) {
    const row = x + <usize>m * stride;
    let c = c0;
    for (; c + 2 <= c1; c += 2) {
      const a = acc + (<usize>c << 3);
      const d = f64x2.sub(loadF32x2(row + (<usize>c << 2)), v128.load(mu + (<usize>c << 3)));
      v128.store(a, f64x2.add(v128.load(a), f64x2.mul(d, d)));
    }
    if (c < c1) {
      const a = acc + (<usize>c << 3);
      const d = <f64>load<f32>(row + (<usize>c << 2)) - load<f64>(mu + (<usize>c << 3));
      store<f64>(a, load<f64>(a) + d * d);
    }
  }
}

/** out[m,c] = (x[m,c] - mu[c]) * r[c] * gamma[c] + beta[c]. */
function normalize(x: usize, gamma: usize, beta: usize, out: usize, M: i32, C: i32, c0: i32, c1: i32, mu: usize, r: usize): void {
  for (let m = 0; m < M; m++) {
    const off = (<usize>m * <usize>C) << 2;
    let c = c0;
    for (; c + 2 <= c1; c += 2) {
      const p = <usize>c << 2, q = <usize>c << 3;
      const xh = f64x2.mul(f64x2.sub(loadF32x2(x + off + p), v128.load(mu + q)), v128.load(r + q));
      storeF32x2(out + off + p, f64x2.add(f64x2.mul(xh, loadF32x2(gamma + p)), loadF32x2(beta + p)));
    }
    if (c < c1) {
      const p = <usize>c << 2, q = <usize>c << 3;
      const xh = (<f64>load<f32>(x + off + p) - load<f64>(mu + q)) * load<f64>(r + q);
      store<f32>(out + off + p, <f32>(xh * <f64>load<f32>(gamma + p) + <f64>load<f32>(beta + p)));
    }
  }
}
