import { CONV_HEADER_BYTES, packConvBlock, setGeometry } from "../kernels/convPack";
import { denseLut, denseLut4 } from "./dense";
import { LANE_BYTES } from "./denseLut";
import { DENSE_LUT4_UNITS } from "./denseLut4";
import { transpose4 } from "./transpose4";

/**
 * conv2dLut: a binary convolution (NHWC, filters as sign bits), multiply-free: each block of 16
 * output positions is unfolded into its patches (im2col) and run through the dense lookup-table
 * kernel with the filters as units (denseLut4.ts, tables of 4 inputs, for fewer than 192
 * filters; denseLut.ts, of 8, otherwise):
 *   s[r, f] = sum_k w[k][f] patch[r, k],  k = (ki kw + kj) C + c,  r = (img Ho + i) Wo + j
 *   patch[r, k] = x[img, i sh - ph + ki, j sw - pw + kj, c]   (0 in the padding)
 *   y[r, f] = act(scale[f] * s[r, f] + shift[f])   (the kernel's epilogue; scale 1, shift 0 give the sums)
 * The patches are packed by the training kernels' packConvBlock (wasm/kernels/convPack.ts: 4 rows
 * and 4 channels of a tap per 4 x 4 transpose, the geometry in a header), the outputs written by
 * 4 x 4 transposes. x and out: plain NHWC f32, [images, h, w, c] and [images, ho, wo, units].
 * patch: convPatchBytes(kh kw c) bytes of scratch (the header, then the block of patches, kPad x
 * 16 lanes); block: scratch of unitsPad * LANE_BYTES (unitsPad = units rounded up to 8), the
 * block's outputs before they are written as rows.
 */
export function conv2dLut(
  x: usize, images: i32, h: i32, w: i32, c: i32, kh: i32, kw: i32, sh: i32, sw: i32, ph: i32, pw: i32, ho: i32, wo: i32,
  bits: usize, units: i32, scale: usize, shift: usize, relu: i32, out: usize, patch: usize, block: usize, table: usize,
): void {
  const kGroups = (kh * kw * c + 7) >> 3;
  const rows = images * ho * wo, blocks = (rows + 15) >> 4;
  const xb = patch + CONV_HEADER_BYTES;
  setGeometry(patch, x, h, w, c, ho, wo, kh, kw, sh, -ph, 1, sw, -pw, 1, 0);
  for (let b = 0; b < blocks; b++) {
    const r0 = b << 4, lanes = min(16, rows - r0);
    packConvBlock(patch, r0, lanes, kGroups << 3, xb);
    if (units < DENSE_LUT4_UNITS) denseLut4(xb, kGroups, bits, units, scale, shift, relu, block, 1, table);
    else denseLut(xb, kGroups, bits, units, scale, shift, relu, block, 1, table);
    writeLanes(block, units, out + (<usize>r0 * <usize>units << 2), lanes);
  }
}

/** Bytes of conv2dLut's patch scratch for K = kh kw c inputs: the geometry header and a block of 16 patches. */
export function convPatchBytes(K: i32): i32 {
  return CONV_HEADER_BYTES + (((K + 7) >> 3) << 3) * <i32>LANE_BYTES;
}

/**
 * The block's outputs [unitsPad][16 lanes] as `lanes` consecutive NHWC rows of `units` at o: 4
 * lanes x 4 units at a time by 4 x 4 transposes, the rest one by one.
 */
export function writeLanes(block: usize, units: i32, o: usize, lanes: i32): void {
  const rowBytes = <usize>units << 2, u4 = units & ~3;
  for (let lane = 0; lane < lanes; lane += 4) {
    const dst = o + <usize>lane * rowBytes, src = block + (<usize>lane << 2);
    const whole = lane + 4 <= lanes;
    let n = 0;
    if (whole) {
      for (; n < u4; n += 4) {
        const s = src + <usize>n * LANE_BYTES;
        transpose4(v128.load(s), v128.load(s + LANE_BYTES), v128.load(s + 2 * LANE_BYTES), v128.load(s + 3 * LANE_BYTES), dst + (<usize>n << 2), rowBytes);
      }
    }
    for (let t = 0; t < 4 && lane + t < lanes; t++)
      for (let m = n; m < units; m++)
        store<f32>(dst + <usize>t * rowBytes + (<usize>m << 2), load<f32>(src + (<usize>t << 2) + <usize>m * LANE_BYTES));
  }
}

/**
 * poolAffine: max pooling (no padding) of plain NHWC f32 images [images, h, w, c], then
 * optionally the folded batch norm and ReLU, into NHWC [images, ho, wo, c]:
 *   m[img, i, j, ch] = max_{di < winH, dj < winW} src[img, i sh + di, j sw + dj, ch]
 *   y = affine ? scale[ch] * m + shift[ch] : m;  then max(y, 0) when relu
 * The maximum is WebAssembly's (f32x4.max / f32.max): a NaN in the window gives NaN.
 */
export function poolAffine(
  src: usize, images: i32, h: i32, w: i32, c: i32, winH: i32, winW: i32, sh: i32, sw: i32, ho: i32, wo: i32,
  scale: usize, shift: usize, affine: i32, relu: i32, dst: usize,
): void {
  const rowBytes = <usize>c << 2, c4 = c & ~3, zero = f32x4.splat(0);
  let o = dst;
  for (let img = 0; img < images; img++) {
    for (let i = 0; i < ho; i++) {
      for (let j = 0; j < wo; j++) {
        const corner = src + <usize>((img * h + i * sh) * w + j * sw) * rowBytes;
        memory.copy(o, corner, rowBytes);
        for (let di = 0; di < winH; di++) {
          for (let dj = 0; dj < winW; dj++) {
            if (di == 0 && dj == 0) continue;
            const p = corner + <usize>(di * w + dj) * rowBytes;
            let ch = 0;
            for (; ch < c4; ch += 4) v128.store(o + (<usize>ch << 2), f32x4.max(v128.load(o + (<usize>ch << 2)), v128.load(p + (<usize>ch << 2))));
            for (; ch < c; ch++) store<f32>(o + (<usize>ch << 2), max(load<f32>(o + (<usize>ch << 2)), load<f32>(p + (<usize>ch << 2))));
          }
        }
        if (affine) {
          let ch = 0;
          for (; ch < c4; ch += 4) {
            const q = <usize>ch << 2;
            let y = f32x4.add(f32x4.mul(v128.load(o + q), v128.load(scale + q)), v128.load(shift + q));
            if (relu) y = f32x4.max(y, zero);
            v128.store(o + q, y);
          }
          for (; ch < c; ch++) {
            const q = <usize>ch << 2;
            const y = load<f32>(o + q) * load<f32>(scale + q) + load<f32>(shift + q);
            store<f32>(o + q, relu && y <= 0 ? 0 : y); // NaN stays NaN
          }
        }
        o += rowBytes;
      }
    }
  }
}

/**
 * blockRows: plain f32 rows [rows, inputs] to denseLut's blocked layout (16 rows per block,
 * features padded to kPad, rows past `rows` up to blocks * 16 zero): the input of a dense layer
 * after convolutions (an NHWC image flattened in place), and of binaryMatmul. Four rows and four
 * features at a time by 4 x 4 transposes (missing rows read as zero), the last inputs % 4
 * features one by one.
 */
export function blockRows(src: usize, rows: i32, inputs: i32, kPad: i32, dst: usize, blocks: i32): void {
  const total = blocks << 4, k4 = inputs & ~3, zero = f32x4.splat(0);
  const rowBytes = <usize>inputs << 2;
  for (let r = 0; r < total; r += 4) {
    const base = dst + ((<usize>(r >> 4) * <usize>kPad << 4) + <usize>(r & 15)) * 4;
    const row = src + <usize>r * rowBytes;
    const n = min(4, max(0, rows - r));
    if (n == 0) {
      for (let k = 0; k < kPad; k++) v128.store(base + (<usize>k << 6), zero);
      continue;
    }
    for (let k = 0; k < k4; k += 4) {
      const p = row + (<usize>k << 2);
      const a = v128.load(p), b = n > 1 ? v128.load(p + rowBytes) : zero;
      const c = n > 2 ? v128.load(p + 2 * rowBytes) : zero, d = n > 3 ? v128.load(p + 3 * rowBytes) : zero;
      transpose4(a, b, c, d, base + (<usize>k << 6), 64);
    }
    for (let k = k4; k < inputs; k++) {
      const p = base + (<usize>k << 6);
      for (let i = 0; i < 4; i++) store<f32>(p + (<usize>i << 2), i < n ? load<f32>(row + <usize>i * rowBytes + (<usize>k << 2)) : 0);
    }
    for (let k = inputs; k < kPad; k++) v128.store(base + (<usize>k << 6), zero);
  }
}
