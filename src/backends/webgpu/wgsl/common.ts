/**
 * WGSL pieces shared by several kernels. Element-wise kernels run 256 invocations per
 * workgroup on a 2-D grid of workgroups (program.ts: groups1d), one element each.
 */
export const ELEMENTWISE_WORKGROUP = 256;

/** `@compute fn main` over elements i < P.n; `body` uses `i`. */
export function elementwiseMain(body: string): string {
  return `
@compute @workgroup_size(${ELEMENTWISE_WORKGROUP})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * ${ELEMENTWISE_WORKGROUP}u + lid;
  if (i >= P.n) { return; }
${body}
}`;
}

/**
 * The counter-based generator of src/core/rng.ts, bit for bit: 24 random bits for element
 * `index` of stream `key` (u(key, index) = counterBits / 2^24).
 */
export const RNG_WGSL = `
fn fmix32(h0: u32) -> u32 {
  var h = h0;
  h ^= h >> 16u;
  h *= 0x85ebca6bu;
  h ^= h >> 13u;
  h *= 0xc2b2ae35u;
  h ^= h >> 16u;
  return h;
}
fn counterBits(key: u32, index: u32) -> u32 {
  return fmix32(key ^ (index * 0x9e3779b1u)) >> 8u;
}`;

/**
 * Per-column reductions (columnSum, batch norm): a workgroup of COLS x ROWS invocations owns
 * COLS consecutive columns; invocation (lx, ly) walks rows ly, ly + ROWS, ... of column lx,
 * and sumRows adds the ROWS partial sums of each column (a tree in workgroup memory). Every
 * invocation must call sumRows (it has barriers), also those past the last column.
 */
export const REDUCE_COLS = 32;
export const REDUCE_ROWS = 8;
export const COLUMN_REDUCTION_WGSL = `
const COLS = ${REDUCE_COLS}u;
const ROWS = ${REDUCE_ROWS}u;
var<workgroup> partial: array<f32, ${REDUCE_COLS * REDUCE_ROWS}>;

fn sumRows(v: f32, lx: u32, ly: u32) -> f32 {
  partial[ly * COLS + lx] = v;
  workgroupBarrier();
  for (var s = ROWS / 2u; s > 0u; s >>= 1u) {
    if (ly < s) { partial[ly * COLS + lx] += partial[(ly + s) * COLS + lx]; }
    workgroupBarrier();
  }
  let total = partial[lx];
  workgroupBarrier();
  return total;
}`;

/** The entry point of a column reduction: c = this invocation's column, valid = c < P.C. */
export function columnMain(body: string): string {
  return `
@compute @workgroup_size(${REDUCE_COLS}, ${REDUCE_ROWS})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let lx = lid.x;
  let ly = lid.y;
  let c = wid.x * COLS + lx;
  let valid = c < P.C;
${body}
}`;
}

/** (n, h, w) of the row-major index q over [N, H, W]: e.g. the image position of a row of NHWC data. */
export const NHW_WGSL = `
fn nhw(q: u32, H: u32, W: u32) -> vec3u {
  let hw = H * W;
  return vec3u(q / hw, (q % hw) / W, q % W);
}`;

/** IEEE-exact tests on a float's bits (immune to flush-to-zero and to NaN-folding compilers). */
export const FLOAT_BITS_WGSL = `
fn isNaNBits(b: u32) -> bool { return (b & 0x7fffffffu) > 0x7f800000u; }
/** x > 0 (false for zeros, negatives and NaN). */
fn isPositiveBits(b: u32) -> bool { return (b >> 31u) == 0u && b != 0u && b <= 0x7f800000u; }
/** x >= 0 (true for -0; false for NaN). */
fn isNonNegativeBits(b: u32) -> bool { return !isNaNBits(b) && ((b >> 31u) == 0u || (b & 0x7fffffffu) == 0u); }`;
