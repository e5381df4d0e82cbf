/**
 * A drawing as MNIST does its digits (LeCun et al.): the ink's bounding box scaled to fit a
 * 20 x 20 box (aspect ratio kept), placed in a 28 x 28 image so that its centre of mass is the
 * image centre. Input: gray values 0..255 (white ink on black) of a square canvas; output: 784
 * values 0..255, row-major, or null when nothing is drawn.
 */
export function mnistLike(gray: Uint8ClampedArray | Uint8Array, size: number): Float32Array | null {
  let x0 = size,
    y0 = size,
    x1 = -1,
    y1 = -1;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      if (gray[y * size + x] > 20) {
        x0 = Math.min(x0, x);
        x1 = Math.max(x1, x);
        y0 = Math.min(y0, y);
        y1 = Math.max(y1, y);
      }
    }
  }
  if (x1 < 0) return null;
  const w = x1 - x0 + 1,
    h = y1 - y0 + 1;
  const scale = 20 / Math.max(w, h);
  // Box-filter the ink's box down into a 20 x 20 (at most) patch.
  const pw = Math.max(1, Math.round(w * scale)),
    ph = Math.max(1, Math.round(h * scale));
  const patch = new Float32Array(pw * ph);
  for (let py = 0; py < ph; py++) {
    for (let px = 0; px < pw; px++) {
      const sx0 = x0 + Math.floor(px / scale),
        sx1 = Math.min(x1 + 1, x0 + Math.floor((px + 1) / scale));
      const sy0 = y0 + Math.floor(py / scale),
        sy1 = Math.min(y1 + 1, y0 + Math.floor((py + 1) / scale));
      let sum = 0,
        n = 0;
      for (let sy = sy0; sy < Math.max(sy1, sy0 + 1); sy++)
        for (let sx = sx0; sx < Math.max(sx1, sx0 + 1); sx++, n++) sum += gray[sy * size + sx];
      patch[py * pw + px] = sum / n;
    }
  }
  // Centre of mass of the patch, moved to the centre of the 28 x 28 image.
  let mass = 0,
    cx = 0,
    cy = 0;
  for (let py = 0; py < ph; py++)
    for (let px = 0; px < pw; px++) {
      const v = patch[py * pw + px];
      mass += v;
      cx += v * px;
      cy += v * py;
    }
  const ox = Math.round(14 - cx / mass),
    oy = Math.round(14 - cy / mass);
  const out = new Float32Array(784);
  for (let py = 0; py < ph; py++)
    for (let px = 0; px < pw; px++) {
      const x = px + ox,
        y = py + oy;
      if (x >= 0 && x < 28 && y >= 0 && y < 28) out[y * 28 + x] = Math.min(255, patch[py * pw + px]);
    }
  return out;
}
