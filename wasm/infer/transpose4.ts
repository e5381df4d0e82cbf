/**
 * The 4 x 4 transpose of f32 tiles shared by the packing and layout routines: matmul's and the
 * convolutions' packing (wasm/kernels/matmulPack.ts, convPack.ts), and the lookup-table kernels'
 * 16-row blocked layout (blockRows in conv.ts, binaryMatmul's writeRows). Four shuffles of
 * 32-bit lanes, then four of 64-bit halves (x64: unpack and move pairs).
 */

/** Transposes the 4x4 block of rows x0..x3 and stores its 4 columns at dst, dst+stride, ... */
@inline export function transpose4(x0: v128, x1: v128, x2: v128, x3: v128, dst: usize, stride: usize): void {
  const t0 = i32x4.shuffle(x0, x1, 0, 4, 1, 5); // x0[0] x1[0] x0[1] x1[1]
  const t1 = i32x4.shuffle(x2, x3, 0, 4, 1, 5); // x2[0] x3[0] x2[1] x3[1]
  const t2 = i32x4.shuffle(x0, x1, 2, 6, 3, 7);
  const t3 = i32x4.shuffle(x2, x3, 2, 6, 3, 7);
  v128.store(dst, i64x2.shuffle(t0, t1, 0, 2));
  v128.store(dst + stride, i64x2.shuffle(t0, t1, 1, 3));
  v128.store(dst + 2 * stride, i64x2.shuffle(t2, t3, 0, 2));
  v128.store(dst + 3 * stride, i64x2.shuffle(t2, t3, 1, 3));
}
