import { accumulate, affine, buildTables, CHUNK, LANE_BYTES } from "./denseLut";
import { accumulate4, buildTables4, CHUNK4 } from "./denseLut4";

/** Layer on `blocks` full blocks of 16 rows (tables of 8 inputs: denseLut.ts). */
export function denseLut(
  x: usize, kGroups: i32, bits: usize, units: i32, scale: usize, shift: usize, relu: i32,
  out: usize, blocks: i32, table: usize,
): void {
  denseBlocks(x, kGroups, bits, units, scale, shift, relu, out, blocks, table, false);
}

/** The same layer with tables of 4 inputs (denseLut4.ts: fewer than DENSE_LUT4_UNITS units). */
export function denseLut4(
  x: usize, kGroups: i32, bits: usize, units: i32, scale: usize, shift: usize, relu: i32,
  out: usize, blocks: i32, table: usize,
): void {
  denseBlocks(x, kGroups, bits, units, scale, shift, relu, out, blocks, table, true);
}

/**
 * The blocks of denseLut or, when `four`, of denseLut4: per block and chunk of groups, the
 * chunk's tables, then every unit's sums accumulated; then the epilogue (affine); the
 * padding units [units, unitsPad) are written as 0 (so `out` is the next layer's input).
 * Inlined with a constant `four`: each kernel keeps only its own branch.
 */
@inline
function denseBlocks(
  x: usize, kGroups: i32, bits: usize, units: i32, scale: usize, shift: usize, relu: i32,
  out: usize, blocks: i32, table: usize, four: bool,
): void {
  const kPad = <usize>kGroups << 3;
  const unitsPad = <usize>((units + 7) & ~7);
  const chunk = four ? CHUNK4 : CHUNK;
  for (let b = 0; b < blocks; b++) {
    const xb = x + <usize>b * kPad * LANE_BYTES;
    const ob = out + <usize>b * unitsPad * LANE_BYTES;
    for (let g0 = 0; g0 < kGroups; g0 += chunk) {
      const g1 = min(kGroups, g0 + chunk);
      if (four) {
        buildTables4(xb, g0, g1, table);
        accumulate4(table, g0, g1, kGroups, bits, units, ob);
      } else {
        buildTables(xb, g0, g1, table);
        accumulate(table, g0, g1, kGroups, bits, units, ob);
      }
    }
    affine(ob, units, scale, shift, relu);
    for (let n = <usize>units; n < unitsPad; n++) {
      const o = ob + n * LANE_BYTES, z = f32x4.splat(0);
      v128.store(o, z); v128.store(o, z, 16); v128.store(o, z, 32); v128.store(o, z, 48);
    }
  }
}
