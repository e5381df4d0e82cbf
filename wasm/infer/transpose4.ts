/**
 * 4 x 4 transposes of f32 tiles, between row-major rows and the 16-row blocked layout of the
 * lookup-table kernels (denseLut.ts): a tile is four f32x4 (rows i, four columns each); the
 * result's vector j holds column j of the four rows. Eight shuffles (x64: unpack/move pairs).
 */

/** Transposes the tile (a, b, c, d) and stores its four columns, each times `scale`, at dst + j * step. */
@inline export function transposeStore4(a: v128, b: v128, c: v128, d: v128, scale: v128, dst: usize, step: usize): void {
  const t0 = i32x4.shuffle(a, b, 0, 4, 1, 5), t1 = i32x4.shuffle(a, b, 2, 6, 3, 7);
  const t2 = i32x4.shuffle(c, d, 0, 4, 1, 5), t3 = i32x4.shuffle(c, d, 2, 6, 3, 7);
  v128.store(dst, f32x4.mul(i32x4.shuffle(t0, t2, 0, 1, 4, 5), scale));
  v128.store(dst + step, f32x4.mul(i32x4.shuffle(t0, t2, 2, 3, 6, 7), scale));
  v128.store(dst + 2 * step, f32x4.mul(i32x4.shuffle(t1, t3, 0, 1, 4, 5), scale));
  v128.store(dst + 3 * step, f32x4.mul(i32x4.shuffle(t1, t3, 2, 3, 6, 7), scale));
}

/** As transposeStore4 without a scale (a copy: bit for bit). */
@inline export function transposeCopy4(a: v128, b: v128, c: v128, d: v128, dst: usize, step: usize): void {
  const t0 = i32x4.shuffle(a, b, 0, 4, 1, 5), t1 = i32x4.shuffle(a, b, 2, 6, 3, 7);
  const t2 = i32x4.shuffle(c, d, 0, 4, 1, 5), t3 = i32x4.shuffle(c, d, 2, 6, 3, 7);
  v128.store(dst, i32x4.shuffle(t0, t2, 0, 1, 4, 5));
  v128.store(dst + step, i32x4.shuffle(t0, t2, 2, 3, 6, 7));
  v128.store(dst + 2 * step, i32x4.shuffle(t1, t3, 0, 1, 4, 5));
  v128.store(dst + 3 * step, i32x4.shuffle(t1, t3, 2, 3, 6, 7));
}
