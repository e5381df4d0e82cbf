import { poolTakes, poolTakes4 } from "./maxPool";

/**
 * maxPoolBackward (contract), images [n0, n1): dx = 0, then for each output (n, i, j, c) in
 * row-major order dx[argmax of its window] += dy[n,i,j,c], the argmax as in maxPool (the first
 * maximum; the first NaN). The same order of float32 adds as the reference, so overlapping
 * windows give bit-identical sums. Four channels at a time: the argmax offsets are tracked
 * in an i32x4 with the same compare + select as the forward pass. Windows that tile the image
 * exactly (stride = window, H = Ho sh, W = Wo sw: the networks' 2x2 pooling) go by
 * tiledWindows instead, which writes each dx once.
 */
export function maxPoolBackward(
  x: usize, dy: usize, dx: usize, H: i32, W: i32, C: i32, Ho: i32, Wo: i32, wh: i32, ww: i32, sh: i32, sw: i32, n0: i32, n1: i32,
): void {
  if (wh == sh && ww == sw && H == Ho * sh && W == Wo * sw) {
    tiledWindows(x, dy, dx, H, W, C, Ho, Wo, wh, ww, n0, n1);
    return;
  }
  const image = <usize>H * <usize>W * <usize>C;
  if (n1 > n0) memory.fill(dx + ((<usize>n0 * image) << 2), 0, (<usize>(n1 - n0) * image) << 2);
  const rowBytes = <usize>W * <usize>C * 4, pixelBytes = <usize>C * 4;
  for (let n = n0; n < n1; n++) {
    for (let i = 0; i < Ho; i++) {
      for (let j = 0; j < Wo; j++) {
        const corner = (((<usize>n * <usize>H + <usize>(i * sh)) * <usize>W + <usize>(j * sw)) * <usize>C) << 2;
        const g = dy + ((((<usize>n * <usize>Ho + <usize>i) * <usize>Wo + <usize>j) * <usize>C) << 2);
        let c = 0;
        for (; c + 4 <= C; c += 4) {
          const p = x + corner + (<usize>c << 2);
          const at = argmax4(p, wh, ww, rowBytes, pixelBytes);
          const q = dx + corner + (<usize>c << 2), gv = v128.load(g + (<usize>c << 2));
          addAt(q + <usize>i32x4.extract_lane(at, 0), f32x4.extract_lane(gv, 0));
          addAt(q + 4 + <usize>i32x4.extract_lane(at, 1), f32x4.extract_lane(gv, 1));
          addAt(q + 8 + <usize>i32x4.extract_lane(at, 2), f32x4.extract_lane(gv, 2));
          addAt(q + 12 + <usize>i32x4.extract_lane(at, 3), f32x4.extract_lane(gv, 3));
        }
        for (; c < C; c++) {
          const p = x + corner + (<usize>c << 2);
          const at = argmax1(p, wh, ww, rowBytes, pixelBytes);
          addAt(dx + corner + (<usize>c << 2) + at, load<f32>(g + (<usize>c << 2)));
        }
      }
    }
  }
}

/**
 * maxPoolBackward when the windows tile the image (each x in exactly one window): every dx of a
 * window written once, dx = 0 + dy[n,i,j,c] at the argmax and 0 elsewhere - the reference's
 * float32 result (0 + g, so a -0 gradient gives +0), without zeroing dx first or adding into it.
 */
function tiledWindows(x: usize, dy: usize, dx: usize, H: i32, W: i32, C: i32, Ho: i32, Wo: i32, wh: i32, ww: i32, n0: i32, n1: i32): void {
  const rowBytes = <usize>W * <usize>C * 4, pixelBytes = <usize>C * 4, zero = f32x4.splat(0);
  for (let n = n0; n < n1; n++) {
    for (let i = 0; i < Ho; i++) {
      for (let j = 0; j < Wo; j++) {
        const corner = (((<usize>n * <usize>H + <usize>(i * wh)) * <usize>W + <usize>(j * ww)) * <usize>C) << 2;
        const g = dy + ((((<usize>n * <usize>Ho + <usize>i) * <usize>Wo + <usize>j) * <usize>C) << 2);
        let c = 0;
        for (; c + 4 <= C; c += 4) {
          const p = x + corner + (<usize>c << 2);
          const at = argmax4(p, wh, ww, rowBytes, pixelBytes);
          const q = dx + corner + (<usize>c << 2), gv = f32x4.add(zero, v128.load(g + (<usize>c << 2)));
          for (let di = 0; di < wh; di++) {
            for (let dj = 0; dj < ww; dj++) {
              const off = <usize>di * rowBytes + <usize>dj * pixelBytes;
              v128.store(q + off, v128.and(gv, i32x4.eq(at, i32x4.splat(<i32>off))));
            }
          }
        }
        for (; c < C; c++) {
          const p = x + corner + (<usize>c << 2);
          const at = argmax1(p, wh, ww, rowBytes, pixelBytes);
          const q = dx + corner + (<usize>c << 2), gs = <f32>0 + load<f32>(g + (<usize>c << 2));
          for (let di = 0; di < wh; di++) {
            for (let dj = 0; dj < ww; dj++) {
              const off = <usize>di * rowBytes + <usize>dj * pixelBytes;
              store<f32>(q + off, off == at ? gs : 0);
            }
          }
        }
      }
    }
  }
}

/** Per lane, the byte offset from p of the wh x ww window's argmax (maxPool's rule: the first maximum, the first NaN). */
@inline function argmax4(p: usize, wh: i32, ww: i32, rowBytes: usize, pixelBytes: usize): v128 {
  let best = v128.load(p);
  let at = i32x4.splat(0);
  for (let di = 0; di < wh; di++) {
    for (let dj = 0; dj < ww; dj++) {
      const off = <usize>di * rowBytes + <usize>dj * pixelBytes;
      const v = v128.load(p + off);
      const take = poolTakes4(v, best);
      best = v128.bitselect(v, best, take);
      at = v128.bitselect(i32x4.splat(<i32>off), at, take);
    }
  }
  return at;
}

/** argmax4 for one channel. */
@inline function argmax1(p: usize, wh: i32, ww: i32, rowBytes: usize, pixelBytes: usize): usize {
  let best = load<f32>(p);
  let at: usize = 0;
  for (let di = 0; di < wh; di++) {
    for (let dj = 0; dj < ww; dj++) {
      const off = <usize>di * rowBytes + <usize>dj * pixelBytes;
      const v = load<f32>(p + off);
      if (poolTakes(v, best)) {
        best = v;
        at = off;
      }
    }
  }
  return at;
}

@inline function addAt(p: usize, v: f32): void {
  store<f32>(p, load<f32>(p) + v);
}
