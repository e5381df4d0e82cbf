import { fanIn, imageOutput, type BcnetConv, type BcnetMaxPool } from "../format/bcnet.js";
import { convOutputShape, type ImageShape } from "../format/shapes.js";

/**
 * A binary convolution on one NHWC image x [H, W, C] (the specification of wasm/infer/conv.ts):
 *   s[i,j,f] = sum_{ki,kj,c} (bit(k, f) ? +x : -x)[i sh - ph + ki, j sw - pw + kj, c],
 *              k = (ki kw + kj) C + c, padding positions contributing 0   (float64, no multiplication)
 *   m = the max pooling of s when the layer pools (before the batch norm, as the paper), else s
 *   y[i,j,f] = act(scale[f] * m[i,j,f] + shift[f])                         (rounded to float32)
 * The result is the output image [Ho, Wo, filters] (after pooling), NHWC.
 */
export function convReference(layer: BcnetConv, x: Float32Array): Float32Array {
  const { height: H, width: W, channels: C } = layer.input;
  const [kh, kw] = layer.kernel,
    [sh, sw] = layer.stride,
    [ph, pw] = layer.pad,
    F = layer.filters;
  const c = convOutputShape(layer.input, F, layer.kernel, layer.stride, layer.pad);
  const rb = Math.ceil(fanIn(layer) / 8);
  const s = new Float64Array(c.height * c.width * F);
  for (let i = 0; i < c.height; i++) {
    for (let j = 0; j < c.width; j++) {
      for (let f = 0; f < F; f++) {
        let sum = 0;
        for (let ki = 0; ki < kh; ki++) {
          const r = i * sh - ph + ki;
          if (r < 0 || r >= H) continue;
          for (let kj = 0; kj < kw; kj++) {
            const q = j * sw - pw + kj;
            if (q < 0 || q >= W) continue;
            for (let ch = 0; ch < C; ch++) {
              const k = (ki * kw + kj) * C + ch,
                v = x[(r * W + q) * C + ch];
              sum += layer.bits[f * rb + (k >> 3)] & (1 << (k & 7)) ? v : -v;
            }
          }
        }
        s[(i * c.width + j) * F + f] = sum;
      }
    }
  }
  const m = layer.pool ? maxPool(s, c, layer.pool.window, layer.pool.stride) : s;
  const y = new Float32Array(m.length);
  for (let p = 0; p < m.length; p++) {
    const v = layer.scale[p % F] * m[p] + layer.shift[p % F];
    y[p] = layer.activation === "relu" ? (v <= 0 ? 0 : v) : v;
  }
  return y;
}

/** A max-pooling layer on one NHWC image [H, W, C]: the output [Ho, Wo, C]. */
export function maxPoolReference(layer: BcnetMaxPool, x: Float32Array): Float32Array {
  return Float32Array.from(maxPool(x, layer.input, layer.window, layer.stride));
}

/**
 * m[i,j,c] = max_{di, dj} x[i s0 + di, j s1 + dj, c] over the window (no padding). Ties: the first
 * maximum in row-major window order; a NaN wins over numbers (the training engine's rule).
 */
function maxPool<T extends Float32Array | Float64Array>(
  x: T,
  input: ImageShape,
  window: readonly [number, number],
  stride: readonly [number, number],
): Float64Array {
  const o = imageOutput({ kind: "maxpool", input, window, stride });
  const { width: W, channels: C } = input;
  const m = new Float64Array(o.height * o.width * C);
  for (let i = 0; i < o.height; i++) {
    for (let j = 0; j < o.width; j++) {
      for (let ch = 0; ch < C; ch++) {
        let best = Number.NaN,
          first = true;
        for (let di = 0; di < window[0]; di++) {
          for (let dj = 0; dj < window[1]; dj++) {
            const v = x[((i * stride[0] + di) * W + j * stride[1] + dj) * C + ch];
            if (first || v > best || (Number.isNaN(v) && !Number.isNaN(best))) best = v;
            first = false;
          }
        }
        m[(i * o.width + j) * C + ch] = best;
      }
    }
  }
  return m;
}
