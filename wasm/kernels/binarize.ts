import { counterBits, counterBits4, lanes4 } from "./rng";

/**
 * binarize (contract; BinaryConnect, paper section 2.3), elements [start, end), Wb in {-H, +H}:
 *   det:   Wb = +H if W >= 0 else -H                       (zero maps to +H)
 *   stoch: Wb = +H if u(key, i) < hard_sigmoid(W/H) = clip((W/H + 1)/2, 0, 1) else -H
 * The stochastic comparison is done in float64 as the reference does (u is exact in float64),
 * so the output equals the reference bit for bit. The clip is not needed: for u in [0, 1),
 * u < clip(p, 0, 1) <=> u < p (NaN compares false in both).
 */
export function binarize(w: usize, out: usize, stoch: bool, H: f64, key: u32, start: i32, end: i32): void {
  if (stoch) binarizeStoch(w, out, H, key, start, end);
  else binarizeDet(w, out, <f32>H, start, end);
}

function binarizeDet(w: usize, out: usize, H: f32, start: i32, end: i32): void {
  const pos = f32x4.splat(H), neg = f32x4.splat(-H), zero = f32x4.splat(0);
  let i = start;
  for (; i + 4 <= end; i += 4) {
    const p = <usize>i << 2;
    v128.store(out + p, v128.bitselect(pos, neg, f32x4.ge(v128.load(w + p), zero)));
  }
  for (; i < end; i++) {
    const p = <usize>i << 2;
    store<f32>(out + p, load<f32>(w + p) >= 0 ? H : -H);
  }
}

function binarizeStoch(w: usize, out: usize, H: f64, key: u32, start: i32, end: i32): void {
  const Hf = <f32>H;
  const pos = f32x4.splat(Hf), neg = f32x4.splat(-Hf);
  const h2 = f64x2.splat(H), one = f64x2.splat(1), half = f64x2.splat(0.5), scale = f64x2.splat(1.0 / 16777216);
  let i = start;
  for (; i + 4 <= end; i += 4) {
    const p = <usize>i << 2;
    const v = v128.load(w + p);
    const bits = counterBits4(key, lanes4(i));
    // p = (W/H + 1)/2 and u = bits / 2^24 for lanes 0,1 (lo) and 2,3 (hi), in float64
    const pLo = f64x2.mul(f64x2.add(f64x2.div(f64x2.promote_low_f32x4(v), h2), one), half);
    const pHi = f64x2.mul(f64x2.add(f64x2.div(f64x2.promote_low_f32x4(i32x4.shuffle(v, v, 2, 3, 2, 3)), h2), one), half);
    const uLo = f64x2.mul(f64x2.convert_low_i32x4_u(bits), scale);
    const uHi = f64x2.mul(f64x2.convert_low_i32x4_u(i32x4.shuffle(bits, bits, 2, 3, 2, 3)), scale);
    // the 64-bit lane masks narrowed to 32-bit lanes
    const keep = i32x4.shuffle(f64x2.lt(uLo, pLo), f64x2.lt(uHi, pHi), 0, 2, 4, 6);
    v128.store(out + p, v128.bitselect(pos, neg, keep));
  }
  for (; i < end; i++) {
    const p = <usize>i << 2;
    const prob = (<f64>load<f32>(w + p) / H + 1) * 0.5;
    const u = <f64>counterBits(key, i) * (1.0 / 16777216);
    store<f32>(out + p, u < prob ? Hf : -Hf);
  }
}
