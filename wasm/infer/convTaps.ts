import { affine, LANE_BYTES, signedSums4 } from "./denseLut";
import { store4 } from "./denseLut4";
import { poolBlockOfTwoRows, poolRowPair } from "./tapsPool";
import { transpose4 } from "./transpose4";

/**
 * conv2dTaps: conv2dLut's binary convolution (the same formula, layouts and epilogue) without
 * unfolding patches, for stride 1 and fewer than 192 filters (the 4-input tables of
 * denseLut4.ts), on channels padded to quads: C4 = 4 ceil(C / 4), the weights' rows laid out
 * for C4 (bit k = (ki kw + kj) C4 + c, 0 for c >= C; for C a multiple of 4, conv2dLut's rows):
 *   s[r, f] = sum_k w[k][f] patch[r, k],  k = (ki kw + kj) C4 + c,  patch 0 for c >= C
 * For C a multiple of 4 the float operations are conv2dLut's, in its order: the same bits.
 * A block is 16 consecutive output positions: Q = min(wo, 16) columns of R = 16 / Q rows (wo a
 * multiple of 16, or 4 or 8 with ho wo a multiple of 16), held in 4 vectors: lane m + 4i is
 * element i of vector m. Its patch entries at tap (ki, kj) are the input at rows from
 * r0 = i0 + ki - ph and columns from j0 + kj - pw. The tables of channel quad q at row start r0
 * and column block j0 / Q (16 entries, the 16 signed sums of 4 inputs) hold kw + 3 vectors per
 * entry (ENTRY = 128 bytes): vector u, element i = input row r0 + 4i / Q, column
 * j0 - pw + u + 4i % Q, so tap (ki, kj) reads vectors kj .. kj + 3 (16 kj bytes into each
 * entry), and one table serves every kj and every output block row whose taps reach input row
 * r0. Tables are built once per row start (kh + 1 slots, each kept while a block row needs it)
 * instead of once per tap and block (conv2dLut builds kh kw per block, after packing the
 * patches):
 *   slot(r0) = r0 mod (kh + 1),  table at cache + ((slot colBlocks + j0 / Q) C4 / 4 + q) TAB
 * The quads of all taps in the patch's order, j = (ki kw + kj) C4 / 4 + q, pair up into groups:
 * weight byte g's low nibble reads quad 2g's table, its high nibble quad 2g + 1's (a table of
 * zeros' sums past the last quad), accumulateGroups4 (below) adds them up.
 * pool = 1 (ho and wo even, Q 8 or 16) fuses a 2 x 2, stride-2 max pooling: out is then NHWC
 * [images, ho / 2, wo / 2, units] of poolAffine's formula (conv.ts) on the plain sums,
 *   y[img, i, j, f] = max(s at rows 2i, 2i + 1, columns 2j, 2j + 1) scale[f] + shift[f],
 * then max(y, 0) when relu, in the same bits as conv2dTaps with scale 1, shift 0, then
 * poolAffine; with Q = 16 each step takes two block rows (the kh + 1 row starts they need).
 * Scratch: cache (convTapsCacheBytes), block (2 x units rounded up to 8, times LANE_BYTES), index
 * (convTapsIndexBytes: the block's two table addresses per group, the slots' rows, the zeros'
 * table, the weights as table offsets), zeros (C4 floats of 0: the padding's inputs).
 */
export function conv2dTaps(
  x: usize, images: i32, h: i32, w: i32, c: i32, kh: i32, kw: i32, ph: i32, pw: i32, ho: i32, wo: i32,
  bits: usize, units: i32, scale: usize, shift: usize, relu: i32, out: usize,
  cache: usize, block: usize, index: usize, zeros: usize, pool: i32,
): void {
  const q = min(wo, 16), rowsPerBlock = 16 / q, colBlocks = wo / q, slots = kh + 1;
  const stepBlocks = pool && q == 16 ? 2 : 1, stepRows = rowsPerBlock * stepBlocks, second = block + <usize>(units + 7 & ~7) * LANE_BYTES;
  const quads = (c + 3) >> 2, setBytes = <usize>quads * TAB, slotBytes = <usize>colBlocks * setBytes;
  const kGroups = tapGroups(c, kh, kw), slotRows = index + <usize>(((kGroups << 3) + 15) & ~15);
  const zeroTable = slotRows + <usize>(((kh << 2) + 15) & ~15), offsets = zeroTable + TAB;
  tableOffsets(bits, units * kGroups, offsets);
  const passes = (kGroups + GROUP_CHUNK - 1) / GROUP_CHUNK, chunk = (kGroups + passes - 1) / passes;
  const z = f32x4.splat(0);
  signedSums4(z, z, z, z, zeroTable, ENTRY);
  store<u32>(index + (<usize>kGroups << 3) - 4, <u32>zeroTable); // an odd quad count's last high table
  for (let img = 0; img < images; img++) {
    for (let s = 0; s < slots; s++) store<i32>(slotRows + (<usize>s << 2), i32.MIN_VALUE);
    const image = x + <usize>img * <usize>(h * w * c) * 4;
    for (let i0 = 0; i0 < ho; i0 += stepRows) {
      for (let ki = 0; ki < kh + stepBlocks - 1; ki++) {
        const r0 = i0 + ki - ph, slot = ((r0 % slots) + slots) % slots, at = slotRows + (<usize>slot << 2);
        if (load<i32>(at) == r0) continue;
        store<i32>(at, r0);
        for (let jb = 0; jb < colBlocks; jb++)
          buildTapTables(image, h, w, c, r0, jb * q - pw, q, kw + 3, zeros, cache + <usize>slot * slotBytes + <usize>jb * setBytes);
      }
      for (let jb = 0; jb < colBlocks; jb++) {
        for (let b = 0; b < stepBlocks; b++) {
          groupAddresses(index, cache + <usize>jb * setBytes, i0 + b - ph, kh, kw, slots, slotBytes, setBytes);
          for (let g0 = 0; g0 < kGroups; g0 += chunk)
            accumulateGroups4(index + (<usize>g0 << 3), g0, min(kGroups, g0 + chunk), kGroups, offsets, units, b ? second : block);
        }
        if (pool) {
          const p = ((img * (ho >> 1) + (i0 >> 1)) * (wo >> 1) + ((jb * q) >> 1)) * units;
          if (q == 16) poolRowPair(block, second, units, scale, shift, relu);
          else poolBlockOfTwoRows(block, units, scale, shift, relu);
          writeVectors(block, units, q >> 3, 4, 1, out + (<usize>p << 2));
          continue;
        }
        affine(block, units, scale, shift, relu);
        const r = (img * ho + i0) * wo + jb * q;
        writeVectors(block, units, 4, 1, 4, out + (<usize>r * <usize>units << 2));
      }
    }
  }
}

/**
 * The table addresses of a block whose taps start at input row r0 (its row minus ph), in the
 * groups' order (tap (ki, kj), then quad): row r0 + ki's set in its slot, 16 kj bytes into each
 * quad's table, one u32 each at index (groups of two quads: 8 bytes a group).
 */
@inline
function groupAddresses(index: usize, column: usize, r0: i32, kh: i32, kw: i32, slots: i32, slotBytes: usize, setBytes: usize): void {
  let at = index;
  for (let ki = 0; ki < kh; ki++) {
    const set = column + <usize>((((r0 + ki) % slots) + slots) % slots) * slotBytes;
    for (let kj = 0; kj < kw; kj++)
      for (let t: usize = <usize>kj << 4; t < setBytes; t += TAB, at += 4) store<u32>(at, <u32>(set + t));
  }
}

/** Weight bytes per filter (groups of 2 quads) of conv2dTaps: ceil(kh kw ceil(C / 4) / 2). */
export function tapGroups(c: i32, kh: i32, kw: i32): i32 {
  return (kh * kw * ((c + 3) >> 2) + 1) >> 1;
}

/**
 * Most groups per pass over the units: 16 (a block's sums go through memory once per pass; 8, 12
 * and 32 measured slower on the network, on a 2-core Xeon). The passes split a layer's groups
 * evenly (ceil(groups / passes) each): no short last pass, 3-5 % faster on the network.
 */
const GROUP_CHUNK = 16;
/** Bytes of a table entry: kw + 3 <= 8 vectors of 4 lanes (kw <= 5). */
const ENTRY: usize = 128;
/** Bytes of one quad's table: 16 entries. */
const TAB: usize = 16 * ENTRY;

/** Bytes of conv2dTaps's table cache: kh + 1 slots of (wo / Q) column blocks x C4 / 4 tables (TAB each). */
export function convTapsCacheBytes(c: i32, kh: i32, kw: i32, wo: i32): i32 {
  return (kh + 1) * (wo / min(wo, 16)) * ((c + 3) >> 2) * <i32>TAB;
}

/**
 * Bytes of conv2dTaps's index scratch: two table addresses per group and kh slot rows (each to
 * 16 bytes), the zeros' table, and the weight bytes as table offsets (4 bytes each).
 */
export function convTapsIndexBytes(c: i32, kh: i32, kw: i32, units: i32): i32 {
  const groups = tapGroups(c, kh, kw);
  return (((groups << 3) + 15) & ~15) + (((kh << 2) + 15) & ~15) + <i32>TAB + ((units * groups) << 2);
}

/**
 * Each of the n weight bytes b as the byte offsets of its two entries, (b & 15) ENTRY in the
 * low 16 bits and (b >> 4) ENTRY in the high: the additions' loop then spends 2 operations on
 * a byte's addresses instead of 4 (5-7 % faster on a 2-core Xeon).
 */
function tableOffsets(bits: usize, n: i32, out: usize): void {
  for (let i = 0; i < n; i++) {
    const b = <u32>load<u8>(bits + <usize>i);
    store<u32>(out + (<usize>i << 2), ((b & 15) * <u32>ENTRY) | (((b >> 4) * <u32>ENTRY) << 16));
  }
}

/**
 * The C4 / 4 tables of a row start r0 and column start s, into set (quad by quad, TAB bytes
 * each): entry l's vector u (at l ENTRY + 16 u, u < vectors = kw + 3) holds the signed sums of
 * the inputs at row r0 + 4i / Q, column s + u + 4i % Q in its element i, so that the block's 16
 * positions read at shift kj are the vectors kj .. kj + 3 (lane m + 4i: element i of vector m).
 * Lanes outside the image read `zeros`. A last quad of fewer than 4 channels is read channel by
 * channel, the rest 0.
 */
function buildTapTables(image: usize, h: i32, w: i32, c: i32, r0: i32, s: i32, q: i32, vectors: i32, zeros: usize, set: usize): void {
  const pixelBytes = <usize>c << 2, wholeBytes = <usize>(c & ~3) << 2, left = c & 3;
  for (let u = 0; u < vectors; u++) {
    const p0 = pixelAddress(image, h, w, pixelBytes, r0, s + u, q, 0, zeros);
    const p1 = pixelAddress(image, h, w, pixelBytes, r0, s + u, q, 4, zeros);
    const p2 = pixelAddress(image, h, w, pixelBytes, r0, s + u, q, 8, zeros);
    const p3 = pixelAddress(image, h, w, pixelBytes, r0, s + u, q, 12, zeros);
    let t = set + (<usize>u << 4);
    for (let ch: usize = 0; ch < wholeBytes; ch += 16) {
      quadTables(v128.load(p0 + ch), v128.load(p1 + ch), v128.load(p2 + ch), v128.load(p3 + ch), t);
      t += TAB;
    }
    if (left) {
      const ch = wholeBytes;
      quadTables(partialQuad(p0 + ch, left), partialQuad(p1 + ch, left), partialQuad(p2 + ch, left), partialQuad(p3 + ch, left), t);
    }
  }
}

/**
 * The first `vectors` of each unit's 4 vectors at block as NHWC rows of `units` at o: vector v's
 * element i to the position at v vectorRows + i laneRows (in rows of `units` floats), 4 units
 * at a time by 4 x 4 transposes (the rest one by one). A block's sums (position m + 4i):
 * 4 vectors, 1, 4; pooled positions 4v + i: 1 or 2 vectors, 4, 1.
 */
@inline
function writeVectors(block: usize, units: i32, vectors: i32, vectorRows: i32, laneRows: i32, o: usize): void {
  const rowBytes = <usize>units << 2, u4 = units & ~3, laneBytes = <usize>laneRows * rowBytes;
  for (let v: usize = 0; v < <usize>vectors; v++) {
    const dst = o + v * <usize>vectorRows * rowBytes, src = block + (v << 4);
    let n = 0;
    for (; n < u4; n += 4) {
      const s = src + <usize>n * LANE_BYTES;
      transpose4(v128.load(s), v128.load(s + LANE_BYTES), v128.load(s + 2 * LANE_BYTES), v128.load(s + 3 * LANE_BYTES), dst + (<usize>n << 2), laneBytes);
    }
    for (; n < units; n++)
      for (let i: usize = 0; i < 4; i++) store<f32>(dst + i * laneBytes + (<usize>n << 2), load<f32>(src + <usize>n * LANE_BYTES + (i << 2)));
  }
}

/** The tables of 4 lanes' channel quads a, b, c, d (one pixel each): transposed to one channel per vector, then signedSums4. */
@inline
function quadTables(a: v128, b: v128, c: v128, d: v128, t: usize): void {
  const t0 = i32x4.shuffle(a, b, 0, 4, 1, 5), t1 = i32x4.shuffle(c, d, 0, 4, 1, 5);
  const t2 = i32x4.shuffle(a, b, 2, 6, 3, 7), t3 = i32x4.shuffle(c, d, 2, 6, 3, 7);
  signedSums4(i64x2.shuffle(t0, t1, 0, 2), i64x2.shuffle(t0, t1, 1, 3), i64x2.shuffle(t2, t3, 0, 2), i64x2.shuffle(t2, t3, 1, 3), t, ENTRY);
}

/** The n < 4 floats at p, then zeros. */
@inline
function partialQuad(p: usize, n: i32): v128 {
  let v = f32x4.replace_lane(f32x4.splat(0), 0, load<f32>(p));
  if (n > 1) v = f32x4.replace_lane(v, 1, load<f32>(p, 4));
  if (n > 2) v = f32x4.replace_lane(v, 2, load<f32>(p, 8));
  return v;
}

/** Address of lane's pixel (row r0 + lane / q, column s + lane % q; lane a multiple of 4, q of 4 or 16) in the image, or zeros outside it. */
@inline
function pixelAddress(image: usize, h: i32, w: i32, pixelBytes: usize, r0: i32, s: i32, q: i32, lane: i32, zeros: usize): usize {
  const r = r0 + lane / q, col = s + lane % q;
  return r < 0 || r >= h || col < 0 || col >= w ? zeros : image + <usize>(r * w + col) * pixelBytes;
}

/**
 * accumulate4 (denseLut4.ts) on tables that lie anywhere: adds groups [g0, g1) of each unit's
 * sums into the block's outputs (from 0 when g0 = 0), 2 units at a time, group g's two tables
 * (read by the low nibble and the high) at the addresses (u32) groups + 8 (g - g0) and + 4, each
 * weight byte as its two entries' offsets (tableOffsets).
 * One loop over the groups (V8 spilled the sums in a loop over taps around a loop over a tap's
 * groups: 4x slower). accumulate4 keeps its contiguous tables: the training's convLut.ts lost
 * 10-15 % on this loop's two address loads.
 */
function accumulateGroups4(groups: usize, g0: i32, g1: i32, kGroups: i32, offsets: usize, units: i32, ob: usize): void {
  const rb = <usize>kGroups << 2, first = g0 == 0, zero = f32x4.splat(0);
  let n = 0;
  for (; n + 2 <= units; n += 2) {
    const o = ob + <usize>n * LANE_BYTES;
    let a0 = first ? zero : v128.load(o), b0 = first ? zero : v128.load(o, 16);
    let c0 = first ? zero : v128.load(o, 32), d0 = first ? zero : v128.load(o, 48);
    let a1 = first ? zero : v128.load(o, 64), b1 = first ? zero : v128.load(o, 80);
    let c1 = first ? zero : v128.load(o, 96), d1 = first ? zero : v128.load(o, 112);
    let w0 = offsets + <usize>n * rb + (<usize>g0 << 2), w1 = w0 + rb;
    let at = groups;
    for (let g = <usize>g0; g < <usize>g1; g++, at += 8, w0 += 4, w1 += 4) {
      const lo = <usize>load<u32>(at), hi = <usize>load<u32>(at, 4);
      const u0 = <usize>load<u32>(w0), u1 = <usize>load<u32>(w1);
      const p0 = lo + (u0 & 0xffff), q0 = hi + (u0 >> 16);
      const p1 = lo + (u1 & 0xffff), q1 = hi + (u1 >> 16);
      a0 = f32x4.add(a0, f32x4.add(v128.load(p0), v128.load(q0))); b0 = f32x4.add(b0, f32x4.add(v128.load(p0, 16), v128.load(q0, 16)));
      c0 = f32x4.add(c0, f32x4.add(v128.load(p0, 32), v128.load(q0, 32))); d0 = f32x4.add(d0, f32x4.add(v128.load(p0, 48), v128.load(q0, 48)));
      a1 = f32x4.add(a1, f32x4.add(v128.load(p1), v128.load(q1))); b1 = f32x4.add(b1, f32x4.add(v128.load(p1, 16), v128.load(q1, 16)));
      c1 = f32x4.add(c1, f32x4.add(v128.load(p1, 32), v128.load(q1, 32))); d1 = f32x4.add(d1, f32x4.add(v128.load(p1, 48), v128.load(q1, 48)));
    }
    store4(a0, b0, c0, d0, o);
    store4(a1, b1, c1, d1, o + LANE_BYTES);
  }
  if (n < units) {
    const o = ob + <usize>n * LANE_BYTES;
    let a = first ? zero : v128.load(o), b = first ? zero : v128.load(o, 16);
    let c = first ? zero : v128.load(o, 32), d = first ? zero : v128.load(o, 48);
    let w = offsets + <usize>n * rb + (<usize>g0 << 2);
    let at = groups;
    for (let g = <usize>g0; g < <usize>g1; g++, at += 8, w += 4) {
      const lo = <usize>load<u32>(at), hi = <usize>load<u32>(at, 4), u = <usize>load<u32>(w);
      const p = lo + (u & 0xffff), q = hi + (u >> 16);
      a = f32x4.add(a, f32x4.add(v128.load(p), v128.load(q))); b = f32x4.add(b, f32x4.add(v128.load(p, 16), v128.load(q, 16)));
      c = f32x4.add(c, f32x4.add(v128.load(p, 32), v128.load(q, 32))); d = f32x4.add(d, f32x4.add(v128.load(p, 48), v128.load(q, 48)));
    }
    store4(a, b, c, d, o);
  }
}
