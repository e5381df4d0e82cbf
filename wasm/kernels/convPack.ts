/**
 * Implicit im2col for the convolutions (conv2d*.ts): packing routines that read the columns
 * of im2col(x) straight from the image into matmul's packed panels (matmulPack.ts layout), so
 * the N*Ho*Wo x kh*kw*C matrix never exists in memory. The micro-kernel is matmul's.
 *
 * The geometry block (CONV_HEADER_BYTES at the start of the thread's scratch, written by the
 * calling kernel) describes a "row grid" of GH x GW positions per image and a source image
 * [N, Hs, Ws, Cs]; row m = (n GH + gi) GW + gj of the implicit matrix holds, for tap (ki, kj)
 * and channel c (column k = (ki kw + kj) Cs + c), the source value at
 *   si = (gi mulH + offH + ki) / divH,  sj = (gj mulW + offW + kj) / divW
 * or 0 when the division is not exact or (si, sj) is outside the image. conv2d: the grid is
 * the output, mul = stride, off = -pad, div = 1. conv2dBackwardInput: the grid is the input,
 * the source is dy, taps are flipped (ki' = kh-1-ki), mul = 1, off = pad - (kh-1), div = stride.
 */
import { transpose4 } from "../infer/transpose4";
import { packBT } from "./matmulPack";

// Byte offsets of the geometry fields (i32) in the header.
const G_SRC = 0; const G_HS = 4; const G_WS = 8; const G_CS = 12;
const G_GH = 16; const G_GW = 20; const G_KH = 24; const G_KW = 28;
const G_MULH = 32; const G_OFFH = 36; const G_DIVH = 40;
const G_MULW = 44; const G_OFFW = 48; const G_DIVW = 52;
const G_FILTER = 56;
/** The 4 decoded rows (n, gi, gj as i32) of the panel being packed. */
const G_ROWS = 64;

/** Bytes of the header before the GEMM's scratch. */
export const CONV_HEADER_BYTES: i32 = 128;

/** Writes the geometry block at g. */
export function setGeometry(
  g: usize, src: usize, Hs: i32, Ws: i32, Cs: i32, GH: i32, GW: i32, kh: i32, kw: i32,
  mulH: i32, offH: i32, divH: i32, mulW: i32, offW: i32, divW: i32, filter: usize,
): void {
  store<i32>(g + G_SRC, <i32>src); store<i32>(g + G_HS, Hs); store<i32>(g + G_WS, Ws); store<i32>(g + G_CS, Cs);
  store<i32>(g + G_GH, GH); store<i32>(g + G_GW, GW); store<i32>(g + G_KH, kh); store<i32>(g + G_KW, kw);
  store<i32>(g + G_MULH, mulH); store<i32>(g + G_OFFH, offH); store<i32>(g + G_DIVH, divH);
  store<i32>(g + G_MULW, mulW); store<i32>(g + G_OFFW, offW); store<i32>(g + G_DIVW, divW);
  store<i32>(g + G_FILTER, <i32>filter);
}

@inline function field(g: usize, at: usize): i32 {
  return load<i32>(g + at);
}

/** The source index along one axis of grid position p for tap t, or -1 (padding, or between strides). */
@inline function sourceIndex(p: i32, t: i32, mul: i32, off: i32, div: i32, size: i32): i32 {
  let s = p * mul + off + t;
  if (s < 0) return -1;
  if (div != 1) {
    if (s % div != 0) return -1;
    s /= div;
  }
  return s < size ? s : -1;
}

/** Byte address of source (n, si, sj, c), or 0 when the tap falls outside the source. */
@inline function sourceAddress(g: usize, n: i32, gi: i32, gj: i32, ki: i32, kj: i32, c: i32): usize {
  const Hs = field(g, G_HS), Ws = field(g, G_WS);
  const si = sourceIndex(gi, ki, field(g, G_MULH), field(g, G_OFFH), field(g, G_DIVH), Hs);
  const sj = sourceIndex(gj, kj, field(g, G_MULW), field(g, G_OFFW), field(g, G_DIVW), Ws);
  if (si < 0 || sj < 0) return 0;
  const pixel = (<usize>n * <usize>Hs + <usize>si) * <usize>Ws + <usize>sj;
  return <usize>field(g, G_SRC) + ((pixel * <usize>field(g, G_CS) + <usize>c) << 2);
}

/** Decodes rows m0 .. m0+3 (those < m1) into the header: n, gi, gj (n = -1 past m1). */
@inline function decodeRows(g: usize, m0: i32, m1: i32): void {
  const GW = field(g, G_GW), grid = field(g, G_GH) * GW;
  for (let r = 0; r < 4; r++) {
    const m = m0 + r, at = g + G_ROWS + <usize>(r * 12);
    if (m >= m1) {
      store<i32>(at, -1);
      continue;
    }
    const n = m / grid, rem = m - n * grid;
    store<i32>(at, n);
    store<i32>(at, rem / GW, 4);
    store<i32>(at, rem % GW, 8);
  }
}

/** Address of decoded row r's source value for tap (ki, kj), channel c; 0 for padding or a missing row. */
@inline function rowAddress(g: usize, r: i32, ki: i32, kj: i32, c: i32): usize {
  const at = g + G_ROWS + <usize>(r * 12);
  const n = load<i32>(at);
  if (n < 0) return 0;
  return sourceAddress(g, n, load<i32>(at, 4), load<i32>(at, 8), ki, kj, c);
}

@inline function load4(p: usize, off: usize): v128 {
  return p ? v128.load(p + off) : f32x4.splat(0);
}

@inline function load1(p: usize, off: usize): f32 {
  return p ? load<f32>(p + off) : 0;
}

/**
 * The 4 decoded rows' values of tap (ki, kj), channels [c, c+run), into dst: channel c+q's 4
 * values (rows 0..3) at dst + q * stride, +0, 4, 8, 12 (a padding row or a missing one gives
 * zeros); 4 channels per 4x4 transpose, then one at a time. For packConvRows (stride 16, a
 * panel's column) and packConvBlock (stride 64, the lookup tables' blocked layout).
 */
@inline function packTapRun(g: usize, ki: i32, kj: i32, c: i32, run: i32, dst: usize, stride: usize): void {
  const p0 = rowAddress(g, 0, ki, kj, c), p1 = rowAddress(g, 1, ki, kj, c);
  const p2 = rowAddress(g, 2, ki, kj, c), p3 = rowAddress(g, 3, ki, kj, c);
  let q = 0;
  for (; q + 4 <= run; q += 4) {
    const off = <usize>q << 2;
    transpose4(load4(p0, off), load4(p1, off), load4(p2, off), load4(p3, off), dst + <usize>q * stride, stride);
  }
  for (; q < run; q++) {
    const off = <usize>q << 2, d = dst + <usize>q * stride;
    store<f32>(d, load1(p0, off));
    store<f32>(d, load1(p1, off), 4);
    store<f32>(d, load1(p2, off), 8);
    store<f32>(d, load1(p3, off), 12);
  }
}

/**
 * Packs rows [m0, m0+mc) x columns [k0, k0+kc) of the implicit im2col matrix (rows = grid
 * positions, columns = (tap, channel)) as matmul's a panels: 4 rows at a time, the columns in
 * runs of one tap (contiguous channels), 4 channels per 4x4 transpose.
 */
export function packConvRows(g: usize, m0: i32, mc: i32, k0: i32, kc: i32, ap: usize): void {
  const Cs = field(g, G_CS), kw = field(g, G_KW);
  for (let i = 0; i < mc; i += 4) {
    decodeRows(g, m0 + i, m0 + mc);
    const panel = ap + <usize>i * <usize>kc * 4;
    let k = k0, kk = 0;
    while (kk < kc) {
      const tap = k / Cs, c = k - tap * Cs, ki = tap / kw, kj = tap - ki * kw;
      const run = min(Cs - c, kc - kk);
      packTapRun(g, ki, kj, c, run, panel + (<usize>kk << 4), 16);
      kk += run;
      k += run;
    }
  }
}

/**
 * Packs rows [r0, r0+mc) x inner [k0, k0+kc) of im2col^T (rows = (tap, channel), inner = grid
 * positions) as a panels: entry (r, kk) at ap + (i kc + 4 kk + r % 4) * 4 for the group of 4
 * rows at i. The positions are walked a grid row at a time (n, gi fixed): along it the source
 * column advances by mulW, so each value is one load at an address that advances by a constant
 * (0 outside the image). Where the 4 rows are 4 channels of one tap, one 16-byte load per
 * position; otherwise (a group that crosses a tap, or the last rows) each row on its own.
 * Geometry with div 1 (conv2dBackwardFilter's).
 */
export function packConvColsT(g: usize, r0: i32, mc: i32, k0: i32, kc: i32, ap: usize): void {
  const Cs = field(g, G_CS), kw = field(g, G_KW), GW = field(g, G_GW);
  const grid = field(g, G_GH) * GW;
  for (let i = 0; i < mc; i += 4) {
    const row = r0 + i, mr = min(4, mc - i);
    const dst = ap + <usize>i * <usize>kc * 4;
    const c = row % Cs;
    if (mr == 4 && c + 4 <= Cs) {
      const tap = row / Cs;
      packRowT(g, tap / kw, tap % kw, c, k0, kc, grid, dst, true);
      continue;
    }
    for (let r = 0; r < 4; r++) {
      if (r < mr) {
        const rr = row + r, tap = rr / Cs;
        packRowT(g, tap / kw, tap % kw, rr - tap * Cs, k0, kc, grid, dst + (<usize>r << 2), false);
      } else {
        for (let kk = 0; kk < kc; kk++) store<f32>(dst + (<usize>kk << 4) + (<usize>r << 2), 0);
      }
    }
  }
}

/**
 * Values of tap (ki, kj), channel c at positions [k0, k0 + kc) to dst + 16 kk: four channels
 * (c..c+3, a v128) when `four`, else one f32.
 */
@inline function packRowT(g: usize, ki: i32, kj: i32, c: i32, k0: i32, kc: i32, grid: i32, dst: usize, four: bool): void {
  const Hs = field(g, G_HS), Ws = field(g, G_WS), Cs = field(g, G_CS), GW = field(g, G_GW);
  const mulH = field(g, G_MULH), offH = field(g, G_OFFH), mulW = field(g, G_MULW), offW = field(g, G_OFFW);
  const src = <usize>field(g, G_SRC), pixelBytes = <usize>Cs << 2, step = <isize>mulW * <isize>pixelBytes;
  let n = k0 / grid, rem = k0 - n * grid, gi = rem / GW, gj = rem - gi * GW;
  let kk = 0;
  while (kk < kc) {
    const run = min(GW - gj, kc - kk);
    const si = gi * mulH + offH + ki;
    let d = dst + (<usize>kk << 4);
    if (si < 0 || si >= Hs) {
      for (let q = 0; q < run; q++, d += 16) {
        if (four) v128.store(d, f32x4.splat(0));
        else store<f32>(d, 0);
      }
    } else {
      let sj = gj * mulW + offW + kj;
      let p = <isize>(src + ((<usize>n * <usize>Hs + <usize>si) * <usize>Ws * pixelBytes) + (<usize>c << 2)) + <isize>sj * <isize>pixelBytes;
      for (let q = 0; q < run; q++, d += 16) {
        if (sj >= 0 && sj < Ws) {
          if (four) v128.store(d, v128.load(<usize>p));
          else store<f32>(d, load<f32>(<usize>p));
        } else if (four) v128.store(d, f32x4.splat(0));
        else store<f32>(d, 0);
        sj += mulW;
        p += step;
      }
    }
    kk += run;
    gj = 0;
    if (++gi == field(g, G_GH)) {
      gi = 0;
      n++;
    }
  }
}

/**
 * Packs columns [j, j+nb) (nb <= 16) x k [k0, k0+kc) of the flipped, transposed filters of
 * conv2dBackwardInput, B'[(ki', kj', co), ci] = w[kh-1-ki', kw-1-kj', ci, co] with w
 * [kh, kw, Cin, Cs] (Cs = Cout here), as matmul's two b tiles: per run of one tap, w's
 * [Cin, Cs] block read as b^T (packBT).
 */
export function packFlippedFilter(g: usize, Cin: i32, j: i32, nb: i32, k0: i32, kc: i32, bp: usize): void {
  const Co = field(g, G_CS), kh = field(g, G_KH), kw = field(g, G_KW), w = <usize>field(g, G_FILTER);
  const tile = <usize>kc * 32;
  let k = k0, kk = 0;
  while (kk < kc) {
    const tap = k / Co, co = k - tap * Co, ki = tap / kw, kj = tap - ki * kw;
    const run = min(Co - co, kc - kk);
    const block = w + ((<usize>((kh - 1 - ki) * kw + (kw - 1 - kj)) * <usize>Cin * <usize>Co) << 2);
    packBT(block, Co, j, min(8, nb), co, run, bp + (<usize>kk << 5));
    if (nb > 8) packBT(block, Co, j + 8, nb - 8, co, run, bp + tile + (<usize>kk << 5));
    kk += run;
    k += run;
  }
}

/**
 * Rows [m0, m0 + rows) (rows <= 16) of the implicit im2col matrix into the lookup-table kernels'
 * blocked layout (wasm/infer/denseLut.ts): column k of row m0 + r is the f32 at
 * dst + (k * 16 + r) * 4, for k < kPad (columns past K = kh kw Cs, and rows past `rows`, are 0).
 * Four rows at a time, the columns in runs of one tap, 4 channels per 4x4 transpose.
 */
export function packConvBlock(g: usize, m0: i32, rows: i32, kPad: i32, dst: usize): void {
  const Cs = field(g, G_CS), kw = field(g, G_KW), K = field(g, G_KH) * kw * Cs;
  for (let r = 0; r < 16; r += 4) {
    decodeRows(g, m0 + r, m0 + rows);
    const base = dst + (<usize>r << 2);
    let k = 0;
    while (k < K) {
      const tap = k / Cs, ki = tap / kw, kj = tap - ki * kw;
      packTapRun(g, ki, kj, 0, Cs, base + (<usize>k << 6), 64);
      k += Cs;
    }
  }
  for (let k = K; k < kPad; k++) {
    const d = dst + (<usize>k << 6), z = f32x4.splat(0);
    v128.store(d, z); v128.store(d, z, 16); v128.store(d, z, 32); v128.store(d, z, 48);
  }
}
