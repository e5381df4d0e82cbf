import {
  addChannels, BN_BLOCK_ROWS, BN_BLOCK_SUMS, BN_CHANNELS, BN_COMBINE, BN_ROWS, blockCount, blockRows, channelArray32,
  combineBlocks, invStd32,
} from "./batchNormShared";

/**
 * batchNormBackward (contract), channels [c0, c1) of x, dy: [M,C], in float32 (as
 * batchNormTrain). With xhat = (x - mean) r, g = dy gamma, s = sqrt(variance):
 *   dbeta = sum_m dy;  dgamma = sum_m dy xhat
 *   standard: dx = r (g - mean_m(g) - xhat mean_m(g xhat))
 *   authors:  dx = r (g - mean_m(g)) - xhat mean_m(g xhat) / s      (0 where s = 0)
 * Computed as the reference does, one float32 operation at a time in its order, the sums as
 * batchNormTrain's (row order within blocks of BN_BLOCK_ROWS rows, then block by block):
 *   dx = r (gamma dy - meanG) - xhat k
 * The phases as batchNormTrain's: BN_CHANNELS; or BN_BLOCK_SUMS (blocks [start, end): both sums
 * of each block into `partials`, [blocks, C] each), BN_COMBINE (dbeta and dgamma of channels
 * [start, end): the blocks' sums in block order) then BN_ROWS (rows [start, end) of dx, meanG
 * and k recomputed from dbeta and dgamma by the same operations): the same bits. Four channels
 * per f32x4; the sums take four rows per load and store. `scratch` holds the two sums, r,
 * meanG, k and a block's two sums (28 bytes per channel; the sums in the thread's own memory,
 * as batchNormTrain's). With `relu`, dy is masked as reluBackward would after batchNormTrain's
 * ReLU (masked4 below); `beta` is then batchNormTrain's beta (read only with `relu`).
 */
export function batchNormBackward(
  x: usize, dy: usize, gamma: usize, mean: usize, variance: usize, dx: usize, dgamma: usize, dbeta: usize, beta: usize,
  M: i32, C: i32, authors: bool, eps: f32, relu: bool, partials: usize, phase: i32, start: i32, end: i32, scratch: usize,
): void {
  const blocks = blockCount(M), partDy = partials, partDyXhat = partials + (<usize>(blocks * C) << 2);
  if (phase == BN_COMBINE) {
    combineBlocks(partDy, blocks, C, start, end, dbeta);
    combineBlocks(partDyXhat, blocks, C, start, end, dgamma);
    return;
  }
  const c0 = phase == BN_CHANNELS ? start : 0, c1 = phase == BN_CHANNELS ? end : C;
  const r = channelArray32(scratch, 0, c0, c1), meanG = channelArray32(scratch, 1, c0, c1), k = channelArray32(scratch, 2, c0, c1);
  for (let c = c0; c < c1; c++) {
    const p = <usize>c << 2;
    store<f32>(r + p, invStd32(authors, load<f32>(variance + p), eps));
  }
  if (phase == BN_BLOCK_SUMS) {
    const row = <usize>C << 2;
    for (let b = start; b < end; b++) {
      const first = <usize>(b * BN_BLOCK_ROWS) * row, at = <usize>b * row;
      sumsRows(x + first, dy + first, mean, blockRows(M, b), C, 0, C, r, gamma, beta, relu, partDy + at, partDyXhat + at);
    }
    return;
  }
  if (phase == BN_ROWS) {
    factors(gamma, variance, M, authors, 0, C, r, dbeta, dgamma, meanG, k);
    gradientRows(x, dy, gamma, beta, relu, mean, dx, start, end, C, 0, C, r, meanG, k);
    return;
  }
  const sDy = channelArray32(scratch, 3, c0, c1), sDyXhat = channelArray32(scratch, 4, c0, c1);
  blockedSums(x, dy, mean, M, C, c0, c1, r, gamma, beta, relu, sDy, sDyXhat, channelArray32(scratch, 5, c0, c1), channelArray32(scratch, 6, c0, c1));
  for (let c = c0; c < c1; c++) {
    const p = <usize>c << 2;
    store<f32>(dbeta + p, load<f32>(sDy + p));
    store<f32>(dgamma + p, load<f32>(sDyXhat + p));
  }
  factors(gamma, variance, M, authors, c0, c1, r, sDy, sDyXhat, meanG, k);
  gradientRows(x, dy, gamma, beta, relu, mean, dx, 0, M, C, c0, c1, r, meanG, k);
}

/**
 * The mask of a ReLU after batchNormTrain (`relu`): dy read as 0 wherever the normalized value
 * (x - mean) r gamma + beta, by batchNormTrain's operations, is not > 0 (reluBackward's rule on
 * the ReLU's input). Here dy's four lanes d, given x - mean (xMinusMu), with the lanes whose
 * normalized value is not > 0 zeroed when `relu` (a constant in each use).
 */
@inline function masked4(d: v128, xMinusMu: v128, rc: v128, gamma: v128, beta: v128, relu: bool): v128 {
  if (!relu) return d;
  const y = f32x4.add(f32x4.mul(f32x4.mul(xMinusMu, rc), gamma), beta);
  return v128.and(d, f32x4.gt(y, f32x4.splat(0)));
}

/** masked4 of one lane. */
@inline function masked1(d: f32, xMinusMu: f32, rc: f32, gamma: f32, beta: f32, relu: bool): f32 {
  if (!relu) return d;
  return xMinusMu * rc * gamma + beta > 0 ? d : 0;
}

/**
 * sums (below) by blocks: each block of BN_BLOCK_ROWS rows in row order (into blockDy and
 * blockDyXhat, from 0), the blocks added in order (from the first block's).
 */
function blockedSums(
  x: usize, dy: usize, mean: usize, M: i32, C: i32, c0: i32, c1: i32, r: usize, gamma: usize, beta: usize, relu: bool,
  sDy: usize, sDyXhat: usize, blockDy: usize, blockDyXhat: usize,
): void {
  const blockBytes = <usize>BN_BLOCK_ROWS * (<usize>C << 2);
  for (let b = 0, at: usize = 0; b < max(1, blockCount(M)); b++, at += blockBytes) {
    sumsRows(x + at, dy + at, mean, blockRows(M, b), C, c0, c1, r, gamma, beta, relu, b == 0 ? sDy : blockDy, b == 0 ? sDyXhat : blockDyXhat);
    if (b > 0) {
      addChannels(sDy, blockDy, c0, c1);
      addChannels(sDyXhat, blockDyXhat, c0, c1);
    }
  }
}

/** meanG = gamma sDy / M and k (the formula above) of channels [c0, c1), from the two sums. */
function factors(
  gamma: usize, variance: usize, M: i32, authors: bool, c0: i32, c1: i32,
  r: usize, sDy: usize, sDyXhat: usize, meanG: usize, k: usize,
): void {
  const m = <f32>M;
  for (let c = c0; c < c1; c++) {
    const p = <usize>c << 2;
    const g = load<f32>(gamma + p), sumDy = load<f32>(sDy + p), sumDyXhat = load<f32>(sDyXhat + p);
    const mg = (g * sumDy) / m, mgx = (g * sumDyXhat) / m;
    const s = Mathf.sqrt(load<f32>(variance + p));
    store<f32>(meanG + p, mg);
    store<f32>(k + p, authors ? (s > 0 ? mgx / s : 0) : load<f32>(r + p) * mgx);
  }
}

/** sums (below), each form compiled on its own: with the ReLU's mask, or without. */
function sumsRows(
  x: usize, dy: usize, mean: usize, M: i32, C: i32, c0: i32, c1: i32, r: usize, gamma: usize, beta: usize, relu: bool,
  sDy: usize, sDyXhat: usize,
): void {
  if (relu) sums(x, dy, mean, M, C, c0, c1, r, gamma, beta, true, sDy, sDyXhat);
  else sums(x, dy, mean, M, C, c0, c1, r, gamma, beta, false, sDy, sDyXhat);
}

/**
 * sDy[c] = sum_m dy;  sDyXhat[c] = sum_m dy (x - mean) r, in row order (from 0), four rows per
 * load and store of the sums; dy masked (masked4) when `relu`, a constant in each call.
 */
@inline function sums(
  x: usize, dy: usize, mean: usize, M: i32, C: i32, c0: i32, c1: i32, r: usize, gamma: usize, beta: usize, relu: bool,
  sDy: usize, sDyXhat: usize,
): void {
  const stride = <usize>C << 2, c4 = c0 + ((c1 - c0) & ~3);
  memory.fill(sDy + (<usize>c0 << 2), 0, <usize>(c1 - c0) << 2);
  memory.fill(sDyXhat + (<usize>c0 << 2), 0, <usize>(c1 - c0) << 2);
  let m = 0;
  for (; m + 4 <= M; m += 4) {
    const off = <usize>m * stride;
    for (let c = c0; c < c4; c += 4) {
      const p = <usize>c << 2, q = x + off + p;
      const mu = v128.load(mean + p), rc = v128.load(r + p), g = v128.load(gamma + p), b = v128.load(beta + p);
      const x0 = f32x4.sub(v128.load(q), mu), x1 = f32x4.sub(v128.load(q + stride), mu);
      const x2 = f32x4.sub(v128.load(q + 2 * stride), mu), x3 = f32x4.sub(v128.load(q + 3 * stride), mu);
      let s = v128.load(sDy + p), t = v128.load(sDyXhat + p);
      const d0 = masked4(v128.load(dy + off + p), x0, rc, g, b, relu);
      const d1 = masked4(v128.load(dy + off + stride + p), x1, rc, g, b, relu);
      const d2 = masked4(v128.load(dy + off + 2 * stride + p), x2, rc, g, b, relu);
      const d3 = masked4(v128.load(dy + off + 3 * stride + p), x3, rc, g, b, relu);
      s = f32x4.add(f32x4.add(f32x4.add(f32x4.add(s, d0), d1), d2), d3);
      t = f32x4.add(t, f32x4.mul(f32x4.mul(d0, x0), rc));
      t = f32x4.add(t, f32x4.mul(f32x4.mul(d1, x1), rc));
      t = f32x4.add(t, f32x4.mul(f32x4.mul(d2, x2), rc));
      t = f32x4.add(t, f32x4.mul(f32x4.mul(d3, x3), rc));
      v128.store(sDy + p, s);
      v128.store(sDyXhat + p, t);
    }
    for (let c = c4; c < c1; c++) sumsOne(x, dy, mean, off, stride, 4, c, r, gamma, beta, relu, sDy, sDyXhat);
  }
  for (; m < M; m++) {
    const off = <usize>m * stride;
    for (let c = c0; c < c4; c += 4) {
      const p = <usize>c << 2, xm = f32x4.sub(v128.load(x + off + p), v128.load(mean + p)), rc = v128.load(r + p);
      const d = masked4(v128.load(dy + off + p), xm, rc, v128.load(gamma + p), v128.load(beta + p), relu);
      v128.store(sDy + p, f32x4.add(v128.load(sDy + p), d));
      const t = f32x4.mul(f32x4.mul(d, xm), rc);
      v128.store(sDyXhat + p, f32x4.add(v128.load(sDyXhat + p), t));
    }
    for (let c = c4; c < c1; c++) sumsOne(x, dy, mean, off, stride, 1, c, r, gamma, beta, relu, sDy, sDyXhat);
  }
}

/** The sums of channel c over `rows` rows from byte offset off. */
@inline function sumsOne(
  x: usize, dy: usize, mean: usize, off: usize, stride: usize, rows: i32, c: i32, r: usize, gamma: usize, beta: usize, relu: bool,
  sDy: usize, sDyXhat: usize,
): void {
  const p = <usize>c << 2, mu = load<f32>(mean + p), rc = load<f32>(r + p), g = load<f32>(gamma + p), b = load<f32>(beta + p);
  let s = load<f32>(sDy + p), t = load<f32>(sDyXhat + p);
  for (let i = 0; i < rows; i++) {
    const at = off + <usize>i * stride + p, xm = load<f32>(x + at) - mu, d = masked1(load<f32>(dy + at), xm, rc, g, b, relu);
    s += d;
    t += d * xm * rc;
  }
  store<f32>(sDy + p, s);
  store<f32>(sDyXhat + p, t);
}

/** gradient (below), each form compiled on its own: with the ReLU's mask, or without. */
function gradientRows(
  x: usize, dy: usize, gamma: usize, beta: usize, relu: bool, mean: usize, dx: usize, m0: i32, m1: i32, C: i32, c0: i32, c1: i32,
  r: usize, meanG: usize, k: usize,
): void {
  if (relu) gradient(x, dy, gamma, beta, true, mean, dx, m0, m1, C, c0, c1, r, meanG, k);
  else gradient(x, dy, gamma, beta, false, mean, dx, m0, m1, C, c0, c1, r, meanG, k);
}

/** dx = r (gamma dy - meanG) - (x - mean) r k, row by row; dy masked (masked4) when `relu`, a constant in each call. */
@inline function gradient(
  x: usize, dy: usize, gamma: usize, beta: usize, relu: bool, mean: usize, dx: usize, m0: i32, m1: i32, C: i32, c0: i32, c1: i32,
  r: usize, meanG: usize, k: usize,
): void {
  const c4 = c0 + ((c1 - c0) & ~3);
  for (let m = m0; m < m1; m++) {
    const off = (<usize>m * <usize>C) << 2;
    for (let c = c0; c < c4; c += 4) {
      const p = <usize>c << 2;
      const rc = v128.load(r + p), g = v128.load(gamma + p), xm = f32x4.sub(v128.load(x + off + p), v128.load(mean + p));
      const xhat = f32x4.mul(xm, rc);
      const d = relu ? v128.and(v128.load(dy + off + p), f32x4.gt(f32x4.add(f32x4.mul(xhat, g), v128.load(beta + p)), f32x4.splat(0))) : v128.load(dy + off + p);
      const gdy = f32x4.sub(f32x4.mul(g, d), v128.load(meanG + p));
      v128.store(dx + off + p, f32x4.sub(f32x4.mul(rc, gdy), f32x4.mul(xhat, v128.load(k + p))));
    }
    for (let c = c4; c < c1; c++) {
      const p = <usize>c << 2;
      const rc = load<f32>(r + p), g = load<f32>(gamma + p), xm = load<f32>(x + off + p) - load<f32>(mean + p);
      const xhat = xm * rc;
      const d = masked1(load<f32>(dy + off + p), xm, rc, g, load<f32>(beta + p), relu);
      const gdy = g * d - load<f32>(meanG + p);
      store<f32>(dx + off + p, rc * gdy - xhat * load<f32>(k + p));
    }
  }
}
