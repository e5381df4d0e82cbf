/**
 * denseLut: a binary dense layer with folded batch norm, multiply-free in the weight product,
 * by the 8-bit lookup-table accumulate (docs: performance.md, "Binary-weight inference").
 *
 *   s[m, n] = sum_k w[k][n] x[m, k],  w in {-1, +1} stored as bits (1 = +1; src/format/bcnet.ts)
 *   y[m, n] = act(scale[n] * s[m, n] + shift[n]),  act = max(., 0) when relu != 0, else identity
 *
 * Method: for each group g of 8 inputs, every one of the 256 sign patterns b has the signed sum
 *   T[g][b] = sum_{j<8} (bit j of b ? +x[8g+j] : -x[8g+j])
 * so s[m, n] = sum_g T[g][byte g of unit n's row]: one table read and one add per 8 weights, no
 * multiplication. The table is built from two 16-entry halves (bits 0-3 and 4-7): one add per
 * entry. SIMD: every table entry is an f32x4 holding 4 rows (a "block"), so one read serves 4
 * rows. The only multiplications are the epilogue's scale (one per output).
 *
 * Layouts (all byte offsets into the memory, 16-byte aligned):
 * - activations, "blocked": block b holds rows 4b..4b+3; feature k of row 4b+r is the f32 at
 *   x + ((b * kPad + k) * 4 + r) * 4, kPad = 8 * kGroups (features past the real ones are 0);
 * - bits: unit n's row of rowBytes = kGroups bytes at bits + n * kGroups;
 * - out: blocked like x with unitsPad = units rounded up to 8 (this writes the padding as 0,
 *   so `out` is the next layer's input);
 * - table: kGroups * 4096 bytes of scratch, plus 512 for the halves.
 */

const ENTRY: usize = 16; // one f32x4 = 4 rows
const GROUP_TABLE: usize = 256 * ENTRY; // 4096 bytes per group of 8 inputs

/** Bytes of table scratch for a layer of `kGroups` groups of 8 inputs. */
export function denseLutTableBytes(kGroups: i32): i32 {
  return kGroups * <i32>GROUP_TABLE + 32 * <i32>ENTRY;
}

export function denseLut(
  x: usize, kGroups: i32, bits: usize, units: i32, scale: usize, shift: usize, relu: i32,
  out: usize, blocks: i32, table: usize,
): void {
  const kPad = <usize>kGroups << 3;
  const unitsPad = <usize>((units + 7) & ~7);
  for (let b = 0; b < blocks; b++) {
    buildTables(x + <usize>b * kPad * ENTRY, kGroups, table);
    const ob = out + <usize>b * unitsPad * ENTRY;
    accumulate(table, kGroups, bits, units, scale, shift, relu, ob);
    for (let n = <usize>units; n < unitsPad; n++) v128.store(ob + n * ENTRY, f32x4.splat(0));
  }
}

/** T[g][h * 16 + l] = hi[h] + lo[l] for every group: lo over inputs 8g..8g+3, hi over 8g+4..8g+7. */
function buildTables(xb: usize, kGroups: i32, table: usize): void {
  const hi = table + <usize>kGroups * GROUP_TABLE;
  const lo = hi + 16 * ENTRY;
  for (let g = 0; g < kGroups; g++) {
    const xg = xb + (<usize>g << 3) * ENTRY;
    half(xg, lo);
    half(xg + 4 * ENTRY, hi);
    const l0 = v128.load(lo), l1 = v128.load(lo, 16), l2 = v128.load(lo, 32), l3 = v128.load(lo, 48);
    const l4 = v128.load(lo, 64), l5 = v128.load(lo, 80), l6 = v128.load(lo, 96), l7 = v128.load(lo, 112);
    let t = table + <usize>g * GROUP_TABLE;
    for (let h: usize = 0; h < 16; h++) {
      const hv = v128.load(hi + h * ENTRY);
      v128.store(t, f32x4.add(hv, l0));
      v128.store(t, f32x4.add(hv, l1), 16);
      v128.store(t, f32x4.add(hv, l2), 32);
      v128.store(t, f32x4.add(hv, l3), 48);
      v128.store(t, f32x4.add(hv, l4), 64);
      v128.store(t, f32x4.add(hv, l5), 80);
      v128.store(t, f32x4.add(hv, l6), 96);
      v128.store(t, f32x4.add(hv, l7), 112);
      v128.store(t, f32x4.add(hv, v128.load(lo, 128)), 128);
      v128.store(t, f32x4.add(hv, v128.load(lo, 144)), 144);
      v128.store(t, f32x4.add(hv, v128.load(lo, 160)), 160);
      v128.store(t, f32x4.add(hv, v128.load(lo, 176)), 176);
      v128.store(t, f32x4.add(hv, v128.load(lo, 192)), 192);
      v128.store(t, f32x4.add(hv, v128.load(lo, 208)), 208);
      v128.store(t, f32x4.add(hv, v128.load(lo, 224)), 224);
      v128.store(t, f32x4.add(hv, v128.load(lo, 240)), 240);
      t += 16 * ENTRY;
    }
  }
}

/** The 16 signed sums of 4 inputs v0..v3 (at src, one f32x4 each): entry l = sum_j (bit j of l ? v_j : -v_j). */
@inline
function half(src: usize, dst: usize): void {
  const v0 = v128.load(src), v1 = v128.load(src, 16), v2 = v128.load(src, 32), v3 = v128.load(src, 48);
  const d0 = f32x4.add(v0, v0), d1 = f32x4.add(v1, v1), d2 = f32x4.add(v2, v2), d3 = f32x4.add(v3, v3);
  const e0 = f32x4.neg(f32x4.add(f32x4.add(v0, v1), f32x4.add(v2, v3)));
  const e2 = f32x4.add(e0, d1), e4 = f32x4.add(e0, d2), e6 = f32x4.add(e4, d1);
  const e8 = f32x4.add(e0, d3), e10 = f32x4.add(e8, d1), e12 = f32x4.add(e8, d2), e14 = f32x4.add(e12, d1);
  v128.store(dst, e0); v128.store(dst, f32x4.add(e0, d0), 16);
  v128.store(dst, e2, 32); v128.store(dst, f32x4.add(e2, d0), 48);
  v128.store(dst, e4, 64); v128.store(dst, f32x4.add(e4, d0), 80);
  v128.store(dst, e6, 96); v128.store(dst, f32x4.add(e6, d0), 112);
  v128.store(dst, e8, 128); v128.store(dst, f32x4.add(e8, d0), 144);
  v128.store(dst, e10, 160); v128.store(dst, f32x4.add(e10, d0), 176);
  v128.store(dst, e12, 192); v128.store(dst, f32x4.add(e12, d0), 208);
  v128.store(dst, e14, 224); v128.store(dst, f32x4.add(e14, d0), 240);
}

/** Every unit of one block: 4 units at a time (4 independent sums hide the add latency), then the rest. */
function accumulate(table: usize, kGroups: i32, bits: usize, units: i32, scale: usize, shift: usize, relu: i32, ob: usize): void {
  const rb = <usize>kGroups;
  let n = 0;
  for (; n + 4 <= units; n += 4) {
    const w0 = bits + <usize>n * rb, w1 = w0 + rb, w2 = w1 + rb, w3 = w2 + rb;
    let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
    let t = table;
    for (let g: usize = 0; g < rb; g++) {
      a0 = f32x4.add(a0, v128.load(t + (<usize>load<u8>(w0 + g) << 4)));
      a1 = f32x4.add(a1, v128.load(t + (<usize>load<u8>(w1 + g) << 4)));
      a2 = f32x4.add(a2, v128.load(t + (<usize>load<u8>(w2 + g) << 4)));
      a3 = f32x4.add(a3, v128.load(t + (<usize>load<u8>(w3 + g) << 4)));
      t += GROUP_TABLE;
    }
    epilogue(a0, n, scale, shift, relu, ob);
    epilogue(a1, n + 1, scale, shift, relu, ob);
    epilogue(a2, n + 2, scale, shift, relu, ob);
    epilogue(a3, n + 3, scale, shift, relu, ob);
  }
  for (; n < units; n++) {
    const w = bits + <usize>n * rb;
    let a = f32x4.splat(0);
    let t = table;
    for (let g: usize = 0; g < rb; g++) {
      a = f32x4.add(a, v128.load(t + (<usize>load<u8>(w + g) << 4)));
      t += GROUP_TABLE;
    }
    epilogue(a, n, scale, shift, relu, ob);
  }
}

/** y = scale[n] * s + shift[n], then max(y, 0) when relu; stored as unit n of the block. */
@inline
function epilogue(s: v128, n: i32, scale: usize, shift: usize, relu: i32, ob: usize): void {
  const p = <usize>n << 2;
  let y = f32x4.add(f32x4.mul(s, f32x4.splat(load<f32>(scale + p))), f32x4.splat(load<f32>(shift + p)));
  if (relu) y = f32x4.max(y, f32x4.splat(0));
  v128.store(ob + (<usize>n << 4), y);
}
