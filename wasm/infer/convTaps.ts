import { writeLanes } from "./conv";
import { affine, signedSums4 } from "./denseLut";
import { accumulateGroups4, T4 } from "./denseLut4";

/**
 * conv2dTaps: conv2dLut's binary convolution (the same formula, layouts, epilogue and float
 * operations in the same order, so the same bits) without unfolding patches, for stride 1, C a
 * multiple of 8 and fewer than 192 filters (the 4-input tables of denseLut4.ts):
 *   s[r, f] = sum_k w[k][f] patch[r, k],  k = (ki kw + kj) C + c
 * A block is 16 consecutive output positions: Q = min(wo, 16) columns of R = 16 / Q rows (wo a
 * multiple of 16, or a divisor of 16 with ho wo a multiple of 16). Its patch entries at tap
 * (ki, kj) are the input at rows r0 = i0 + ki - ph .. r0 + R - 1 and columns j0 + kj - pw ..
 * + Q - 1: the tables of channel quad q there, TAB(r0, j0, kj, q) (16 signed sums of 4 inputs,
 * 16 lanes each: 1 KiB), serve every output block row whose taps reach input row r0, so they are
 * built once per row start r0 (kh slots, each kept while a block row needs it) instead of once
 * per tap and block (conv2dLut builds kh kw per block, after packing the patches):
 *   slot(r0) = r0 mod kh,  TAB at cache + ((slot colBlocks + j0 / Q) kw + kj) C / 4 KiB + q KiB
 * Then each unit's sums go tap by tap, group by group (g = tap C / 8 + c / 8: the patch's order),
 * with the two tables of group g (quads 2 (c / 8) and 2 (c / 8) + 1) read by the low and high
 * nibble of weight byte g (accumulateGroups4, denseLut4.ts).
 * Scratch: cache (convTapsCacheBytes), block (units rounded up to 8, times LANE_BYTES), groups
 * (convTapsIndexBytes: the block's table address per group, then the slots' rows), zeros (C
 * floats of 0: the padding's inputs).
 */
export function conv2dTaps(
  x: usize, images: i32, h: i32, w: i32, c: i32, kh: i32, kw: i32, ph: i32, pw: i32, ho: i32, wo: i32,
  bits: usize, units: i32, scale: usize, shift: usize, relu: i32, out: usize,
  cache: usize, block: usize, groups: usize, zeros: usize,
): void {
  const q = min(wo, 16), rowsPerBlock = 16 / q, colBlocks = wo / q;
  const quads = c >> 2, setBytes = <usize>quads * T4, slotBytes = <usize>(colBlocks * kw) * setBytes;
  const slotRows = groups + <usize>(kh * kw * (c >> 3) << 2);
  for (let img = 0; img < images; img++) {
    for (let s = 0; s < kh; s++) store<i32>(slotRows + (<usize>s << 2), i32.MIN_VALUE);
    const image = x + <usize>img * <usize>(h * w * c) * 4;
    for (let i0 = 0; i0 < ho; i0 += rowsPerBlock) {
      for (let ki = 0; ki < kh; ki++) {
        const r0 = i0 + ki - ph, slot = ((r0 % kh) + kh) % kh, at = slotRows + (<usize>slot << 2);
        if (load<i32>(at) == r0) continue;
        store<i32>(at, r0);
        for (let jb = 0; jb < colBlocks; jb++)
          for (let kj = 0; kj < kw; kj++) {
            const set = cache + <usize>slot * slotBytes + <usize>(jb * kw + kj) * setBytes;
            buildTapTables(image, h, w, c, r0, jb * q + kj - pw, q, zeros, set);
          }
      }
      for (let jb = 0; jb < colBlocks; jb++) {
        let at = groups;
        for (let ki = 0; ki < kh; ki++) {
          const slot = (((i0 + ki - ph) % kh) + kh) % kh;
          for (let kj = 0; kj < kw; kj++) {
            const set = cache + <usize>slot * slotBytes + <usize>(jb * kw + kj) * setBytes;
            for (let t: usize = 0; t < setBytes; t += 2 * T4, at += 4) store<u32>(at, <u32>(set + t));
          }
        }
        const kGroups = kh * kw * (c >> 3);
        for (let g0 = 0; g0 < kGroups; g0 += GROUP_CHUNK) accumulateGroups4(groups + (<usize>g0 << 2), g0, min(kGroups, g0 + GROUP_CHUNK), kGroups, bits, units, block);
        affine(block, units, scale, shift, relu);
        const r = (img * ho + i0) * wo + jb * q;
        writeLanes(block, units, out + (<usize>r * <usize>units << 2), 16);
      }
    }
  }
}

/**
 * Groups per pass over the units: 16 groups' tables are 32 KiB, in L1 (1.9 ns per unit and
 * group on 16, 2.2-2.5 on 64 or all, on a 2-core Xeon at C = 32-128).
 */
const GROUP_CHUNK = 16;

/** Bytes of conv2dTaps's table cache: kh slots of (wo / Q) column blocks x kw shifts x C / 4 tables. */
export function convTapsCacheBytes(c: i32, kh: i32, kw: i32, wo: i32): i32 {
  return kh * (wo / min(wo, 16)) * kw * (c >> 2) * <i32>T4;
}

/** Bytes of conv2dTaps's index scratch: the kh kw C / 8 groups' table addresses, then kh slot rows. */
export function convTapsIndexBytes(c: i32, kh: i32, kw: i32): i32 {
  return (kh * kw * (c >> 3) + kh) << 2;
}

/**
 * The C / 4 tables (16 entries x 16 lanes) of the input at rows r0 + lane / q, columns
 * s + lane % q, into set (quad by quad, 1 KiB each); lanes outside the image read `zeros`.
 * Four lanes at a time: their pixels' channel quads transposed into 4 vectors of one channel.
 */
function buildTapTables(image: usize, h: i32, w: i32, c: i32, r0: i32, s: i32, q: i32, zeros: usize, set: usize): void {
  const pixelBytes = <usize>c << 2;
  for (let lane = 0; lane < 16; lane += 4) {
    const p0 = pixelAddress(image, h, w, pixelBytes, r0, s, q, lane, zeros);
    const p1 = pixelAddress(image, h, w, pixelBytes, r0, s, q, lane + 1, zeros);
    const p2 = pixelAddress(image, h, w, pixelBytes, r0, s, q, lane + 2, zeros);
    const p3 = pixelAddress(image, h, w, pixelBytes, r0, s, q, lane + 3, zeros);
    let t = set + (<usize>lane << 2);
    for (let ch: usize = 0; ch < pixelBytes; ch += 16) {
      const a = v128.load(p0 + ch), b = v128.load(p1 + ch), cc = v128.load(p2 + ch), d = v128.load(p3 + ch);
      const t0 = i32x4.shuffle(a, b, 0, 4, 1, 5), t1 = i32x4.shuffle(cc, d, 0, 4, 1, 5);
      const t2 = i32x4.shuffle(a, b, 2, 6, 3, 7), t3 = i32x4.shuffle(cc, d, 2, 6, 3, 7);
      signedSums4(i64x2.shuffle(t0, t1, 0, 2), i64x2.shuffle(t0, t1, 1, 3), i64x2.shuffle(t2, t3, 0, 2), i64x2.shuffle(t2, t3, 1, 3), t);
      t += T4;
    }
  }
}

/** Address of lane's pixel (row r0 + lane / q, column s + lane % q) in the image, or zeros outside it. */
@inline
function pixelAddress(image: usize, h: i32, w: i32, pixelBytes: usize, r0: i32, s: i32, q: i32, lane: i32, zeros: usize): usize {
  const r = r0 + lane / q, col = s + lane % q;
  return r < 0 || r >= h || col < 0 || col >= w ? zeros : image + <usize>(r * w + col) * pixelBytes;
}
