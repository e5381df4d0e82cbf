import { channelArray32, invStd32 } from "./batchNormShared";

/**
 * batchNormTrain (contract), channels [c0, c1) of x: [M,C], in float32 (as the authors' Theano
 * code, floatX = float32):
 *   mean = (1/M) sum_m x;  variance = (1/M) sum_m (x - mean)^2
 *   out = (x - mean) * r * gamma + beta,  r = 1/(sqrt(variance) + eps) (authors) | 1/sqrt(variance + eps)
 *   runningMean += momentum (mean - runningMean)
 *   runningScale += momentum (sqrt(variance) - runningScale)            (authors)
 *                 | momentum (variance M/(M-1) - runningScale)          (standard)
 * Every operation is one float32 operation in the reference's order (sums in row order, no fused
 * multiply-add), so the result equals the reference bit for bit. Four channels per f32x4; the
 * rows are streamed three times (sum, squared deviation, output), four rows per load and store
 * of the running sums. `scratch` holds the mean, the variance and r (12 bytes per channel): the
 * sums stay in the thread's own memory (kept in the shared outputs instead, 2 threads ran at
 * half the speed of 1 on the dev VM; measured, cause not pinned down).
 */
export function batchNormTrain(
  x: usize, gamma: usize, beta: usize, out: usize, mean: usize, variance: usize,
  runningMean: usize, runningScale: usize, M: i32, C: i32, authors: bool, eps: f32, momentum: f32,
  c0: i32, c1: i32, scratch: usize,
): void {
  const mu = channelArray32(scratch, 0, c0, c1), sq = channelArray32(scratch, 1, c0, c1), r = channelArray32(scratch, 2, c0, c1);
  const m = <f32>M;
  columnSums(x, M, C, c0, c1, mu);
  for (let c = c0; c < c1; c++) {
    const p = <usize>c << 2;
    store<f32>(mu + p, load<f32>(mu + p) / m);
  }
  squaredDeviations(x, M, C, c0, c1, mu, sq);
  for (let c = c0; c < c1; c++) {
    const p = <usize>c << 2;
    const u = load<f32>(mu + p), v = load<f32>(sq + p) / m;
    store<f32>(mean + p, u);
    store<f32>(variance + p, v);
    store<f32>(r + p, invStd32(authors, v, eps));
    const rm = load<f32>(runningMean + p);
    store<f32>(runningMean + p, rm + momentum * (u - rm));
    const scale = authors ? Mathf.sqrt(v) : M > 1 ? (v * m) / <f32>(M - 1) : v;
    const rs = load<f32>(runningScale + p);
    store<f32>(runningScale + p, rs + momentum * (scale - rs));
  }
  normalize(x, gamma, beta, out, M, C, c0, c1, mu, r);
}

/** acc[c] = sum_m x[m,c] in row order (from 0), four rows per load and store of the sums. */
function columnSums(x: usize, M: i32, C: i32, c0: i32, c1: i32, acc: usize): void {
  const stride = <usize>C << 2, c4 = c0 + ((c1 - c0) & ~3);
  memory.fill(acc + (<usize>c0 << 2), 0, <usize>(c1 - c0) << 2);
  let m = 0;
  for (; m + 4 <= M; m += 4) {
    const row = x + <usize>m * stride;
    for (let c = c0; c < c4; c += 4) {
      const a = acc + (<usize>c << 2), p = row + (<usize>c << 2);
      let s = f32x4.add(v128.load(a), v128.load(p));
      s = f32x4.add(s, v128.load(p + stride));
      s = f32x4.add(s, v128.load(p + 2 * stride));
      v128.store(a, f32x4.add(s, v128.load(p + 3 * stride)));
    }
    for (let c = c4; c < c1; c++) {
      const a = acc + (<usize>c << 2), p = row + (<usize>c << 2);
      store<f32>(a, load<f32>(a) + load<f32>(p) + load<f32>(p + stride) + load<f32>(p + 2 * stride) + load<f32>(p + 3 * stride));
    }
  }
  for (; m < M; m++) {
    const row = x + <usize>m * stride;
    for (let c = c0; c < c4; c += 4) {
      const a = acc + (<usize>c << 2);
      v128.store(a, f32x4.add(v128.load(a), v128.load(row + (<usize>c << 2))));
    }
    for (let c = c4; c < c1; c++) {
      const a = acc + (<usize>c << 2);
      store<f32>(a, load<f32>(a) + load<f32>(row + (<usize>c << 2)));
    }
  }
}

/** acc[c] = sum_m (x[m,c] - mu[c])^2 in row order (from 0), four rows per load and store of the sums. */
function squaredDeviations(x: usize, M: i32, C: i32, c0: i32, c1: i32, mu: usize, acc: usize): void {
  const stride = <usize>C << 2, c4 = c0 + ((c1 - c0) & ~3);
  memory.fill(acc + (<usize>c0 << 2), 0, <usize>(c1 - c0) << 2);
  let m = 0;
  for (; m + 4 <= M; m += 4) {
    const row = x + <usize>m * stride;
    for (let c = c0; c < c4; c += 4) {
      const a = acc + (<usize>c << 2), p = row + (<usize>c << 2), u = v128.load(mu + (<usize>c << 2));
      const d0 = f32x4.sub(v128.load(p), u), d1 = f32x4.sub(v128.load(p + stride), u);
      const d2 = f32x4.sub(v128.load(p + 2 * stride), u), d3 = f32x4.sub(v128.load(p + 3 * stride), u);
      let s = f32x4.add(v128.load(a), f32x4.mul(d0, d0));
      s = f32x4.add(s, f32x4.mul(d1, d1));
      s = f32x4.add(s, f32x4.mul(d2, d2));
      v128.store(a, f32x4.add(s, f32x4.mul(d3, d3)));
    }
    for (let c = c4; c < c1; c++) {
      const a = acc + (<usize>c << 2), p = row + (<usize>c << 2), u = load<f32>(mu + (<usize>c << 2));
      const d0 = load<f32>(p) - u, d1 = load<f32>(p + stride) - u, d2 = load<f32>(p + 2 * stride) - u, d3 = load<f32>(p + 3 * stride) - u;
      store<f32>(a, load<f32>(a) + d0 * d0 + d1 * d1 + d2 * d2 + d3 * d3);
    }
  }
  for (; m < M; m++) {
    const row = x + <usize>m * stride;
    for (let c = c0; c < c4; c += 4) {
      const a = acc + (<usize>c << 2), d = f32x4.sub(v128.load(row + (<usize>c << 2)), v128.load(mu + (<usize>c << 2)));
      v128.store(a, f32x4.add(v128.load(a), f32x4.mul(d, d)));
    }
    for (let c = c4; c < c1; c++) {
      const a = acc + (<usize>c << 2), d = load<f32>(row + (<usize>c << 2)) - load<f32>(mu + (<usize>c << 2));
      store<f32>(a, load<f32>(a) + d * d);
    }
  }
}

/** out[m,c] = (x[m,c] - mu[c]) * r[c] * gamma[c] + beta[c], row by row. */
function normalize(x: usize, gamma: usize, beta: usize, out: usize, M: i32, C: i32, c0: i32, c1: i32, mu: usize, r: usize): void {
  const c4 = c0 + ((c1 - c0) & ~3);
  for (let m = 0; m < M; m++) {
    const off = (<usize>m * <usize>C) << 2;
    for (let c = c0; c < c4; c += 4) {
      const p = <usize>c << 2;
      const xh = f32x4.mul(f32x4.sub(v128.load(x + off + p), v128.load(mu + p)), v128.load(r + p));
      v128.store(out + off + p, f32x4.add(f32x4.mul(xh, v128.load(gamma + p)), v128.load(beta + p)));
    }
    for (let c = c4; c < c1; c++) {
      const p = <usize>c << 2;
      const xh = (load<f32>(x + off + p) - load<f32>(mu + p)) * load<f32>(r + p);
      store<f32>(out + off + p, xh * load<f32>(gamma + p) + load<f32>(beta + p));
    }
  }
}
