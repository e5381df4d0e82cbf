import { LANE_BYTES } from "./denseLut";
import { finish } from "./denseLut4";
import { transpose4 } from "./transpose4";

/**
 * conv2dPlane: a binary convolution of stride 1 on NHWC images whose channels are a multiple
 * of 8, multiply-free, without unfolding the patches. Per image, the 4-input lookup tables
 * are built once per input position straight from its NHWC row (the padded image as one plane):
 *   T[q][l][P] = sum_{j<4} (bit j of l ? +x : -x)[y, x, 4q + j],  P = (y + ph) wp + x + pw
 * (0 in the padding), wp = w + 2 pw, hp = h + 2 ph: entry l of channel quad q is a row of
 * planeFloats() floats, one per plane position. An output position (i, j) is the plane position
 * P = i wp + j, and its patch at kernel offset (ki, kj) is position P + ki wp + kj. A block is
 * 8 columns of 2 output rows (positions P0..P0+7 and P0+wp..P0+wp+7): it reads 8 consecutive
 * floats of each table row twice (unaligned), so one table serves all kh kw offsets (the im2col
 * path, conv2dLut, builds it kh kw times, once per patch). Positions past ho or wo (an odd
 * height, a width not a multiple of 8) are computed and dropped. Weights as in conv2dLut (k = (ki kw + kj) c + ch, one
 * bit each; c % 8 == 0, so byte g of a unit's row covers channel quads 2qq, 2qq + 1 of one
 * offset):
 *   s[P, f] = sum_{ki, kj, qq} T[2qq][lo nibble][P + ki wp + kj] + T[2qq+1][hi nibble][...]
 *   y = act(scale[f] s + shift[f])    (scale 1, shift 0 give the plain sums, for pooling)
 * x, out: plain NHWC f32 [images, h, w, c], [images, ho, wo, units] (ho = hp - kh + 1, wo =
 * wp - kw + 1). planes: convPlaneBytes() bytes of scratch; block: unitsPad * LANE_BYTES.
 */
export function conv2dPlane(
  x: usize, images: i32, h: i32, w: i32, c: i32, kh: i32, kw: i32, ph: i32, pw: i32, ho: i32, wo: i32,
  bits: usize, units: i32, scale: usize, shift: usize, relu: i32, out: usize, block: usize, planes: usize,
): void {
  const hp = h + 2 * ph, wp = w + 2 * pw;
  const es = <usize>planeFloats(hp, wp, kw) << 2;
  const rb = <usize>((kh * kw * c) >> 3);
  const pairs = (ho + 1) >> 1, segments = (wo + 7) >> 3, half = <usize>wp << 2;
  const imageBytes = <usize>(h * w * c) << 2, outRow = <usize>units << 2;
  for (let img = 0; img < images; img++) {
    buildPlane(x + <usize>img * imageBytes, h, w, c, ph, pw, hp, wp, es, planes);
    const o = out + <usize>(img * ho * wo) * outRow;
    for (let ip = 0; ip < pairs; ip++) {
      for (let sg = 0; sg < segments; sg++) {
        const i0 = ip << 1, j0 = sg << 3;
        accumulatePlane(planes + (<usize>(i0 * wp + j0) << 2), es, half, c >> 3, kh, kw, wp, bits, rb, units, scale, shift, relu, block);
        writeBlock(block, units, i0, j0, ho, wo, o, outRow);
      }
    }
  }
}

/**
 * The block's outputs [unitsPad][16 lanes] into the NHWC image o (rows i0, i0 + 1, columns j0..j0+7
 * that exist): 4 lanes x 4 units at a time by 4 x 4 transposes when units % 4 == 0, else one by one.
 */
function writeBlock(block: usize, units: i32, i0: i32, j0: i32, ho: i32, wo: i32, o: usize, outRow: usize): void {
  for (let lane = 0; lane < 16; lane += 4) {
    const i = i0 + (lane >> 3), j = j0 + (lane & 7);
    if (i >= ho || j >= wo) continue;
    const dst = o + <usize>(i * wo + j) * outRow, src = block + (<usize>lane << 2);
    if ((units & 3) == 0 && j + 4 <= wo) {
      for (let n = 0; n < units; n += 4) {
        const s = src + <usize>n * LANE_BYTES;
        transpose4(v128.load(s), v128.load(s + LANE_BYTES), v128.load(s + 2 * LANE_BYTES), v128.load(s + 3 * LANE_BYTES), dst + (<usize>n << 2), outRow);
      }
      continue;
    }
    for (let t = 0; t < 4 && j + t < wo; t++)
      for (let n = 0; n < units; n++)
        store<f32>(dst + <usize>t * outRow + (<usize>n << 2), load<f32>(src + (<usize>t << 2) + <usize>n * LANE_BYTES));
  }
}

/** Floats per table row: the plane and the reads past its end (a row and up to kw + 6 positions, for an odd ho or wo), rounded to 16; not a multiple of 1024 (cache sets). */
function planeFloats(hp: i32, wp: i32, kw: i32): i32 {
  let n = (hp * wp + wp + kw + 16 + 15) & ~15;
  if ((n & 1023) == 0) n += 16;
  return n;
}

/** Bytes of table scratch conv2dPlane needs for a layer: c / 4 channel quads x 16 entries x planeFloats. */
export function convPlaneBytes(c: i32, hp: i32, wp: i32, kw: i32): i32 {
  return (c >> 2) * 16 * (planeFloats(hp, wp, kw) << 2);
}

/** The tables of one image: 4 plane positions at a time, each channel quad's 4 x 4 values transposed to 4 channel vectors. */
function buildPlane(x: usize, h: i32, w: i32, c: i32, ph: i32, pw: i32, hp: i32, wp: i32, es: usize, planes: usize): void {
  const n = <i32>(es >> 2), nq = c >> 2, rowBytes = <usize>c << 2, zero = f32x4.splat(0);
  const total = hp * wp;
  for (let p = 0; p < n; p += 4) {
    // the source row of each of the 4 positions, or 0 (padding, past the plane)
    let s0: usize = 0, s1: usize = 0, s2: usize = 0, s3: usize = 0;
    for (let t = 0; t < 4; t++) {
      const q = p + t;
      if (q >= total) break;
      const yy = q / wp, y = yy - ph, xc = q - yy * wp - pw;
      if (y < 0 || y >= h || xc < 0 || xc >= w) continue;
      const src = x + <usize>(y * w + xc) * rowBytes;
      if (t == 0) s0 = src; else if (t == 1) s1 = src; else if (t == 2) s2 = src; else s3 = src;
    }
    const dst = planes + (<usize>p << 2);
    for (let q = 0; q < nq; q++) {
      const off = <usize>q << 4;
      const a = s0 ? v128.load(s0 + off) : zero, b = s1 ? v128.load(s1 + off) : zero;
      const cc = s2 ? v128.load(s2 + off) : zero, d = s3 ? v128.load(s3 + off) : zero;
      const t0 = i32x4.shuffle(a, b, 0, 4, 1, 5), t1 = i32x4.shuffle(cc, d, 0, 4, 1, 5);
      const t2 = i32x4.shuffle(a, b, 2, 6, 3, 7), t3 = i32x4.shuffle(cc, d, 2, 6, 3, 7);
      entries(i64x2.shuffle(t0, t1, 0, 2), i64x2.shuffle(t0, t1, 1, 3), i64x2.shuffle(t2, t3, 0, 2), i64x2.shuffle(t2, t3, 1, 3),
        dst + (<usize>q << 4) * es, es);
    }
  }
}

/** The 16 signed sums of v0..v3 (entry l: +v_j where bit j of l is set, else -v_j) at dst + l * es. */
@inline
function entries(v0: v128, v1: v128, v2: v128, v3: v128, dst: usize, es: usize): void {
  const d0 = f32x4.add(v0, v0), d1 = f32x4.add(v1, v1), d2 = f32x4.add(v2, v2), d3 = f32x4.add(v3, v3);
  const e0 = f32x4.neg(f32x4.add(f32x4.add(v0, v1), f32x4.add(v2, v3)));
  const e2 = f32x4.add(e0, d1), e4 = f32x4.add(e0, d2), e6 = f32x4.add(e4, d1);
  const e8 = f32x4.add(e0, d3), e10 = f32x4.add(e8, d1), e12 = f32x4.add(e8, d2), e14 = f32x4.add(e12, d1);
  let o = dst;
  v128.store(o, e0); o += es; v128.store(o, f32x4.add(e0, d0)); o += es;
  v128.store(o, e2); o += es; v128.store(o, f32x4.add(e2, d0)); o += es;
  v128.store(o, e4); o += es; v128.store(o, f32x4.add(e4, d0)); o += es;
  v128.store(o, e6); o += es; v128.store(o, f32x4.add(e6, d0)); o += es;
  v128.store(o, e8); o += es; v128.store(o, f32x4.add(e8, d0)); o += es;
  v128.store(o, e10); o += es; v128.store(o, f32x4.add(e10, d0)); o += es;
  v128.store(o, e12); o += es; v128.store(o, f32x4.add(e12, d0)); o += es;
  v128.store(o, e14); o += es; v128.store(o, f32x4.add(e14, d0));
}

/**
 * One block of 16 output positions, 8 columns of two rows (t: the tables at its first position; the second row's at t + half): every
 * unit's sums, 2 units at a time, then the epilogue, into block [unitsPad][16].
 */
function accumulatePlane(
  t: usize, es: usize, half: usize, bytesPerOffset: i32, kh: i32, kw: i32, wp: i32, bits: usize, rb: usize, units: i32,
  scale: usize, shift: usize, relu: i32, block: usize,
): void {
  const zero = f32x4.splat(0), es16 = es << 4, es32 = es << 5;
  let n = 0;
  for (; n + 2 <= units; n += 2) {
    let w0 = bits + <usize>n * rb;
    let a0 = zero, b0 = zero, c0 = zero, d0 = zero, a1 = zero, b1 = zero, c1 = zero, d1 = zero;
    for (let ki = 0; ki < kh; ki++) {
      for (let kj = 0; kj < kw; kj++) {
        let tl = t + (<usize>(ki * wp + kj) << 2);
        for (let g = 0; g < bytesPerOffset; g++) {
          const u0 = <usize>load<u8>(w0), u1 = <usize>load<u8>(w0 + rb);
          const th = tl + es16;
          const p0 = tl + (u0 & 15) * es, q0 = th + (u0 >> 4) * es;
          const p1 = tl + (u1 & 15) * es, q1 = th + (u1 >> 4) * es;
          a0 = f32x4.add(a0, f32x4.add(v128.load(p0), v128.load(q0))); b0 = f32x4.add(b0, f32x4.add(v128.load(p0, 16), v128.load(q0, 16)));
          c0 = f32x4.add(c0, f32x4.add(v128.load(p0 + half), v128.load(q0 + half))); d0 = f32x4.add(d0, f32x4.add(v128.load(p0 + half, 16), v128.load(q0 + half, 16)));
          a1 = f32x4.add(a1, f32x4.add(v128.load(p1), v128.load(q1))); b1 = f32x4.add(b1, f32x4.add(v128.load(p1, 16), v128.load(q1, 16)));
          c1 = f32x4.add(c1, f32x4.add(v128.load(p1 + half), v128.load(q1 + half))); d1 = f32x4.add(d1, f32x4.add(v128.load(p1 + half, 16), v128.load(q1 + half, 16)));
          w0++;
          tl += es32;
        }
      }
    }
    const o = block + <usize>n * LANE_BYTES;
    finish(a0, b0, c0, d0, n, scale, shift, relu, true, o);
    finish(a1, b1, c1, d1, n + 1, scale, shift, relu, true, o + LANE_BYTES);
  }
  if (n < units) {
    let w0 = bits + <usize>n * rb;
    let a = zero, b = zero, c = zero, d = zero;
    for (let ki = 0; ki < kh; ki++) {
      for (let kj = 0; kj < kw; kj++) {
        let tl = t + (<usize>(ki * wp + kj) << 2);
        for (let g = 0; g < bytesPerOffset; g++) {
          const u = <usize>load<u8>(w0);
          const p = tl + (u & 15) * es, q = tl + es16 + (u >> 4) * es;
          a = f32x4.add(a, f32x4.add(v128.load(p), v128.load(q))); b = f32x4.add(b, f32x4.add(v128.load(p, 16), v128.load(q, 16)));
          c = f32x4.add(c, f32x4.add(v128.load(p + half), v128.load(q + half))); d = f32x4.add(d, f32x4.add(v128.load(p + half, 16), v128.load(q + half, 16)));
          w0++;
          tl += es32;
        }
      }
    }
    finish(a, b, c, d, n, scale, shift, relu, true, block + <usize>n * LANE_BYTES);
  }
}
