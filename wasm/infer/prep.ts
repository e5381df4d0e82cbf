/**
 * prepPixels: raw 8-bit inputs (pixels 0..255) to the first layer's blocked activations
 * (the layout of denseLut.ts, 16 rows per block):
 *   x'[r, k] = x[r, k] * scale - mean[k]      computed in f64 and rounded once to f32, as the
 *                                              host (and training's data/split.ts) computes it
 * `src` holds `rows` rows of `inputs` bytes; features k in [inputs, kPad) and rows in
 * [rows, total) are written as 0 (total: the rows the layer kernels will read - whole blocks of
 * 16 for denseLut, just `rows` when every row goes through the one-row kernel).
 */
export function prepPixels(src: usize, rows: i32, inputs: i32, kPad: i32, scale: f64, mean: usize, dst: usize, total: i32): void {
  for (let r = 0; r < total; r++) {
    let p = dst + ((<usize>(r >> 4) * <usize>kPad << 4) + <usize>(r & 15)) * 4;
    let k = 0;
    if (r < rows) {
      const row = src + <usize>r * <usize>inputs;
      for (; k < inputs; k++, p += 64) {
        store<f32>(p, <f32>(<f64>load<u8>(row + k) * scale - <f64>load<f32>(mean + (<usize>k << 2))));
      }
    }
    for (; k < kPad; k++, p += 64) store<f32>(p, 0);
  }
}
