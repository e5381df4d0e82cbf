import {
  addChannels, BN_BLOCK_DEVIATIONS, BN_BLOCK_ROWS, BN_BLOCK_SUMS, BN_CHANNELS, BN_COMBINE, BN_ROWS,
  blockCount, blockRows, channelArray32, combineBlocks, invStd32,
} from "./batchNormShared";

/**
 * batchNormTrain (contract), x: [M,C], in float32 (as the authors' Theano code, floatX = float32):
 *   mean = (1/M) sum_m x;  variance = (1/M) sum_m (x - mean)^2
 *   out = (x - mean) * r * gamma + beta,  r = 1/(sqrt(variance) + eps) (authors) | 1/sqrt(variance + eps)
 *   runningMean += momentum (mean - runningMean)
 *   runningScale += momentum (sqrt(variance) - runningScale)            (authors)
 *                 | momentum (variance M/(M-1) - runningScale)          (standard)
 * Every operation is one float32 operation in the reference's order (no fused multiply-add),
 * except that the sums run in row order within blocks of BN_BLOCK_ROWS rows, then block by block
 * (batchNormShared.ts): the reference's bits up to BN_BLOCK_ROWS rows, within float32 rounding
 * beyond; the same bits in every phase (batchNormShared.ts): BN_CHANNELS, everything for
 * channels [start, end); or, split by blocks of rows, BN_BLOCK_SUMS, BN_BLOCK_DEVIATIONS (each
 * block's sums into `partials`: [blocks, C] sums, then [blocks, C] squared deviations),
 * BN_COMBINE (channels [start, end): the blocks' sums added in block order, the statistics and
 * running averages) then BN_ROWS (rows [start, end) of the output, r recomputed from the stored
 * variance by the same operation). Four channels per f32x4; the rows are streamed three times
 * (sum, squared deviation, output), four rows per load and store of the running sums.
 * With `relu`, each output y becomes y <= 0 ? 0 : y (relu.ts) as it is written.
 * `scratch` holds the mean, the variance, r and a block's sums (16 bytes per channel): the sums
 * stay in the thread's own memory (kept in the shared outputs instead, 2 threads ran at half the
 * speed of 1 on the dev VM; measured, cause not pinned down).
 */
export function batchNormTrain(
  x: usize, gamma: usize, beta: usize, out: usize, mean: usize, variance: usize,
  runningMean: usize, runningScale: usize, M: i32, C: i32, authors: bool, eps: f32, momentum: f32, relu: bool,
  partials: usize, phase: i32, start: i32, end: i32, scratch: usize,
): void {
  const blocks = blockCount(M), sums = partials, deviations = partials + (<usize>(blocks * C) << 2);
  if (phase == BN_ROWS) {
    const r = channelArray32(scratch, 2, 0, C);
    for (let c = 0; c < C; c++) {
      const p = <usize>c << 2;
      store<f32>(r + p, invStd32(authors, load<f32>(variance + p), eps));
    }
    normalizeRows(x, gamma, beta, out, start, end, C, 0, C, mean, r, relu);
    return;
  }
  if (phase == BN_BLOCK_SUMS) {
    for (let b = start; b < end; b++) blockSums(x, M, C, b, sums, 0, false);
    return;
  }
  if (phase == BN_BLOCK_DEVIATIONS) {
    const mu = channelArray32(scratch, 0, 0, C);
    combineMean(sums, blocks, C, 0, C, <f32>M, mu);
    for (let b = start; b < end; b++) blockSums(x, M, C, b, deviations, mu, true);
    return;
  }
  const c0 = start, c1 = end;
  const mu = channelArray32(scratch, 0, c0, c1), sq = channelArray32(scratch, 1, c0, c1), r = channelArray32(scratch, 2, c0, c1);
  if (phase == BN_COMBINE) {
    combineMean(sums, blocks, C, c0, c1, <f32>M, mu);
    combineBlocks(deviations, blocks, C, c0, c1, sq);
  } else {
    const block = channelArray32(scratch, 3, c0, c1);
    blockedColumnSums(x, M, C, c0, c1, mu, 0, false, block);
    divideChannels(mu, c0, c1, <f32>M);
    blockedColumnSums(x, M, C, c0, c1, sq, mu, true, block);
  }
  statistics(mean, variance, runningMean, runningScale, M, authors, eps, momentum, c0, c1, mu, sq, r);
  if (phase == BN_CHANNELS) normalizeRows(x, gamma, beta, out, 0, M, C, c0, c1, mu, r, relu);
}

/** mu[c] = (the blocks' sums of channel c, in block order) / m, channels [c0, c1). */
function combineMean(sums: usize, blocks: i32, C: i32, c0: i32, c1: i32, m: f32, mu: usize): void {
  combineBlocks(sums, blocks, C, c0, c1, mu);
  divideChannels(mu, c0, c1, m);
}

/** a[c] = a[c] / m, channels [c0, c1). */
function divideChannels(a: usize, c0: i32, c1: i32, m: f32): void {
  for (let c = c0; c < c1; c++) {
    const p = <usize>c << 2;
    store<f32>(a + p, load<f32>(a + p) / m);
  }
}

/**
 * From the mean mu and the sum of squared deviations sq, channels [c0, c1): mean, variance
 * (sq / M), r (into the scratch array r) and the running averages.
 */
function statistics(
  mean: usize, variance: usize, runningMean: usize, runningScale: usize, M: i32, authors: bool, eps: f32, momentum: f32,
  c0: i32, c1: i32, mu: usize, sq: usize, r: usize,
): void {
  const m = <f32>M;
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
}

/** Block b's sums of every channel (t(v) as columnSums) into row b of the [blocks, C] array at parts. */
function blockSums(x: usize, M: i32, C: i32, b: i32, parts: usize, mu: usize, deviations: bool): void {
  const first = <usize>(b * BN_BLOCK_ROWS) * (<usize>C << 2), row = parts + (<usize>(b * C) << 2);
  if (deviations) columnSums(x + first, blockRows(M, b), C, 0, C, row, mu, true);
  else columnSums(x + first, blockRows(M, b), C, 0, C, row, 0, false);
}

/**
 * acc[c] = sum_m t(x[m,c]) by blocks: each block of BN_BLOCK_ROWS rows in
 * row order (into `block`, from 0), the blocks added in order (from the first block's sums).
 */
function blockedColumnSums(x: usize, M: i32, C: i32, c0: i32, c1: i32, acc: usize, mu: usize, deviations: bool, block: usize): void {
  const blockBytes = <usize>BN_BLOCK_ROWS * (<usize>C << 2);
  for (let b = 0, at = x; b < max(1, blockCount(M)); b++, at += blockBytes) {
    const into = b == 0 ? acc : block;
    if (deviations) columnSums(at, blockRows(M, b), C, c0, c1, into, mu, true);
    else columnSums(at, blockRows(M, b), C, c0, c1, into, 0, false);
    if (b > 0) addChannels(acc, block, c0, c1);
  }
}

/**
 * acc[c] = sum_m t(x[m,c]) in row order (from 0), t(v) = v, or (v - mu[c])^2 when `deviations`
 * (a constant: each call is compiled for one form); four rows per load and store of the sums.
 */
@inline function columnSums(x: usize, M: i32, C: i32, c0: i32, c1: i32, acc: usize, mu: usize, deviations: bool): void {
  const stride = <usize>C << 2, c4 = c0 + ((c1 - c0) & ~3);
  memory.fill(acc + (<usize>c0 << 2), 0, <usize>(c1 - c0) << 2);
  let m = 0;
  for (; m + 4 <= M; m += 4) {
    const row = x + <usize>m * stride;
    for (let c = c0; c < c4; c += 4) {
      const a = acc + (<usize>c << 2), p = row + (<usize>c << 2), u = deviations ? v128.load(mu + (<usize>c << 2)) : f32x4.splat(0);
      let s = f32x4.add(v128.load(a), term4(v128.load(p), u, deviations));
      s = f32x4.add(s, term4(v128.load(p + stride), u, deviations));
      s = f32x4.add(s, term4(v128.load(p + 2 * stride), u, deviations));
      v128.store(a, f32x4.add(s, term4(v128.load(p + 3 * stride), u, deviations)));
    }
    for (let c = c4; c < c1; c++) {
      const a = acc + (<usize>c << 2), p = row + (<usize>c << 2), u = deviations ? load<f32>(mu + (<usize>c << 2)) : 0;
      let s = load<f32>(a) + term1(load<f32>(p), u, deviations);
      s += term1(load<f32>(p + stride), u, deviations);
      s += term1(load<f32>(p + 2 * stride), u, deviations);
      store<f32>(a, s + term1(load<f32>(p + 3 * stride), u, deviations));
    }
  }
  for (; m < M; m++) {
    const row = x + <usize>m * stride;
    for (let c = c0; c < c4; c += 4) {
      const a = acc + (<usize>c << 2), u = deviations ? v128.load(mu + (<usize>c << 2)) : f32x4.splat(0);
      v128.store(a, f32x4.add(v128.load(a), term4(v128.load(row + (<usize>c << 2)), u, deviations)));
    }
    for (let c = c4; c < c1; c++) {
      const a = acc + (<usize>c << 2), u = deviations ? load<f32>(mu + (<usize>c << 2)) : 0;
      store<f32>(a, load<f32>(a) + term1(load<f32>(row + (<usize>c << 2)), u, deviations));
    }
  }
}

/** v, or (v - u)^2 when `deviations` (four lanes). */
@inline function term4(v: v128, u: v128, deviations: bool): v128 {
  if (!deviations) return v;
  const d = f32x4.sub(v, u);
  return f32x4.mul(d, d);
}

/** v, or (v - u)^2 when `deviations`. */
@inline function term1(v: f32, u: f32, deviations: bool): f32 {
  if (!deviations) return v;
  const d = v - u;
  return d * d;
}

/** normalize (below), each form compiled on its own: with relu, or without. */
function normalizeRows(x: usize, gamma: usize, beta: usize, out: usize, m0: i32, m1: i32, C: i32, c0: i32, c1: i32, mu: usize, r: usize, relu: bool): void {
  if (relu) normalize(x, gamma, beta, out, m0, m1, C, c0, c1, mu, r, true);
  else normalize(x, gamma, beta, out, m0, m1, C, c0, c1, mu, r, false);
}

/**
 * out[m,c] = (x[m,c] - mu[c]) * r[c] * gamma[c] + beta[c], row by row; with `relu` (a constant
 * in each call) then y <= 0 ? 0 : y, as relu.ts (NaN stays NaN, -0 becomes +0).
 */
@inline function normalize(
  x: usize, gamma: usize, beta: usize, out: usize, m0: i32, m1: i32, C: i32, c0: i32, c1: i32, mu: usize, r: usize, relu: bool,
): void {
  const c4 = c0 + ((c1 - c0) & ~3);
  for (let m = m0; m < m1; m++) {
    const off = (<usize>m * <usize>C) << 2;
    for (let c = c0; c < c4; c += 4) {
      const p = <usize>c << 2;
      const xh = f32x4.mul(f32x4.sub(v128.load(x + off + p), v128.load(mu + p)), v128.load(r + p));
      const y = f32x4.add(f32x4.mul(xh, v128.load(gamma + p)), v128.load(beta + p));
      v128.store(out + off + p, relu ? v128.andnot(y, f32x4.le(y, f32x4.splat(0))) : y);
    }
    for (let c = c4; c < c1; c++) {
      const p = <usize>c << 2;
      const xh = (load<f32>(x + off + p) - load<f32>(mu + p)) * load<f32>(r + p);
      const y = xh * load<f32>(gamma + p) + load<f32>(beta + p);
      store<f32>(out + off + p, relu && y <= 0 ? 0 : y);
    }
  }
}
