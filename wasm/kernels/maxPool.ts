/**
 * maxPool (contract), images [n0, n1) of x [N,H,W,C] -> out [N,Ho,Wo,C]:
 *   out[n,i,j,c] = x[argmax over the wh x ww window at (i sh, j sw)]
 * The window is scanned in row-major order and v replaces the best when v > best, or v is NaN
 * and best is not (poolTakes): the first maximum, NaN propagating - bit-exact with the
 * reference. Four channels at a time (f32x4 compare + select), the rest one by one.
 */
export function maxPool(
  x: usize, out: usize, H: i32, W: i32, C: i32, Ho: i32, Wo: i32, wh: i32, ww: i32, sh: i32, sw: i32, n0: i32, n1: i32,
): void {
  const rowBytes = <usize>W * <usize>C * 4, pixelBytes = <usize>C * 4;
  for (let n = n0; n < n1; n++) {
    for (let i = 0; i < Ho; i++) {
      for (let j = 0; j < Wo; j++) {
        const base = x + ((((<usize>n * <usize>H + <usize>(i * sh)) * <usize>W + <usize>(j * sw)) * <usize>C) << 2);
        const dst = out + ((((<usize>n * <usize>Ho + <usize>i) * <usize>Wo + <usize>j) * <usize>C) << 2);
        let c = 0;
        for (; c + 4 <= C; c += 4) {
          const p = base + (<usize>c << 2);
          let best = v128.load(p);
          for (let di = 0; di < wh; di++) {
            for (let dj = 0; dj < ww; dj++) {
              const v = v128.load(p + <usize>di * rowBytes + <usize>dj * pixelBytes);
              best = v128.bitselect(v, best, poolTakes4(v, best));
            }
          }
          v128.store(dst + (<usize>c << 2), best);
        }
        for (; c < C; c++) {
          const p = base + (<usize>c << 2);
          let best = load<f32>(p);
          for (let di = 0; di < wh; di++) {
            for (let dj = 0; dj < ww; dj++) {
              const v = load<f32>(p + <usize>di * rowBytes + <usize>dj * pixelBytes);
              if (poolTakes(v, best)) best = v;
            }
          }
          store<f32>(dst + (<usize>c << 2), best);
        }
      }
    }
  }
}

/** v replaces best: v > best, or v is NaN and best is not. */
@inline export function poolTakes(v: f32, best: f32): bool {
  return v > best || (v != v && best == best);
}

/** poolTakes per lane, as a mask. */
@inline export function poolTakes4(v: v128, best: v128): v128 {
  return v128.or(f32x4.gt(v, best), v128.and(f32x4.ne(v, v), f32x4.eq(best, best)));
}
