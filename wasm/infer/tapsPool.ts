import { LANE_BYTES } from "./denseLut";

// conv2dTaps's fused 2 x 2, stride-2 max pooling (convTaps.ts): on a block's plain sums
// [units][4 vectors] (lane m + 4i: element i of vector m), the maximum, then the folded batch
// norm and ReLU as poolAffine (conv.ts) applies them; conv2dTaps writes the pooled positions.

/**
 * The fused 2 x 2, stride-2 max pooling of two blocks of one output row each (Q = 16): block
 * rows i0 (at b0) and i0 + 1 (at b1), lane m + 4i = column m + 4i. Per unit, the maximum of
 * vectors 0 and 1 holds pooled columns 0, 2, 4, 6 (elements 0-3), of vectors 2 and 3 columns
 * 1, 3, 5, 7; the two rows' maxima, then poolEpilogue, into b0's unit as pooled columns 0-3 and 4-7.
 */
export function poolRowPair(b0: usize, b1: usize, units: i32, scale: usize, shift: usize, relu: i32): void {
  for (let n = 0; n < units; n++) {
    const o = b0 + <usize>n * LANE_BYTES, o1 = b1 + <usize>n * LANE_BYTES;
    const even = f32x4.max(f32x4.max(v128.load(o), v128.load(o, 16)), f32x4.max(v128.load(o1), v128.load(o1, 16)));
    const odd = f32x4.max(f32x4.max(v128.load(o, 32), v128.load(o, 48)), f32x4.max(v128.load(o1, 32), v128.load(o1, 48)));
    const s = f32x4.splat(load<f32>(scale + (<usize>n << 2))), k = f32x4.splat(load<f32>(shift + (<usize>n << 2)));
    v128.store(o, poolEpilogue(i32x4.shuffle(even, odd, 0, 4, 1, 5), s, k, relu));
    v128.store(o, poolEpilogue(i32x4.shuffle(even, odd, 2, 6, 3, 7), s, k, relu), 16);
  }
}

/**
 * The fused 2 x 2, stride-2 max pooling inside a block of two output rows of 8 (Q = 8): lane
 * m + 4i = row i / 2, column m + 4 (i % 2). Per unit, the maximum of vectors 0 and 1 holds pooled
 * columns 0, 2 of row 0 then of row 1 (elements 0-3), of vectors 2 and 3 columns 1, 3; the rows'
 * maxima (elements i and i + 2), then poolEpilogue, into the unit's first vector as pooled columns 0-3.
 */
export function poolBlockOfTwoRows(b0: usize, units: i32, scale: usize, shift: usize, relu: i32): void {
  for (let n = 0; n < units; n++) {
    const o = b0 + <usize>n * LANE_BYTES;
    const even = f32x4.max(v128.load(o), v128.load(o, 16)), odd = f32x4.max(v128.load(o, 32), v128.load(o, 48));
    const pairs = f32x4.max(i64x2.shuffle(even, odd, 0, 2), i64x2.shuffle(even, odd, 1, 3));
    const s = f32x4.splat(load<f32>(scale + (<usize>n << 2))), k = f32x4.splat(load<f32>(shift + (<usize>n << 2)));
    v128.store(o, poolEpilogue(i32x4.shuffle(pairs, pairs, 0, 2, 1, 3), s, k, relu));
  }
}

/**
 * poolAffine's epilogue on the maxima m of the plain sums (conv.ts): y = m scale + shift, then
 * max(y, 0) when relu. The same bits as conv2dTaps with scale 1 and shift 0, then poolAffine:
 * s 1 + 0 = s, as the sums start from +0 and so are never -0.
 */
@inline
function poolEpilogue(m: v128, s: v128, k: v128, relu: i32): v128 {
  const y = f32x4.add(f32x4.mul(m, s), k);
  return relu ? f32x4.max(y, f32x4.splat(0)) : y;
}
