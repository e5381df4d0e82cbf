import { elementwiseMain } from "./common.js";

/**
 * The tiled matrix product behind matmul and the convolutions: out[M,N] = A[M,K] . B[K,N]
 * (+ out), row-major out, where A and B are read through WGSL functions
 * `loadA(m, k) -> f32` and `loadB(k, n) -> f32` (0 outside the matrix): matmul reads a and b
 * (transposed or not), a convolution reads its image "im2col" on the fly (implicit GEMM).
 * Generated for one tile shape and one operand variant; P must hold M, N and K.
 *
 * A workgroup of (BN/TN) x (BM/TM) invocations computes a BM x BN block of out. For each slab
 * of BK along K it copies op(a)[BM x BK] and op(b)[BK x BN] into workgroup memory (two
 * buffers: the next slab is loaded from global memory into registers while the current one
 * is multiplied, then stored into the other buffer; one barrier per slab). Both tiles are kept
 * K-major (As[k][m], Bs[k][n]), padded by 4 floats per row against bank conflicts, whatever the
 * layout in global memory; global reads are ordered along the contiguous axis (coalesced).
 * Each invocation accumulates TM x TN outputs in registers (vec4 rows): rows
 * {r*4*WY + 4*ty + i}, columns {s*4*WX + 4*tx + j}, so its workgroup-memory reads are vec4s
 * and consecutive invocations touch consecutive vec4s. Loops over the tile are unrolled here
 * (WGSL has no unroll directive), so accumulators stay in registers.
 * Sums are float32 in the order k = 0, 1, ... per output (the reference: float64).
 */
export interface MatmulTile {
  /** Block of out per workgroup: BM rows x BN columns. */
  readonly BM: number;
  readonly BN: number;
  /** Slab depth along K. */
  readonly BK: number;
  /** Outputs per invocation: TM rows x TN columns (multiples of 4). */
  readonly TM: number;
  readonly TN: number;
}

export interface GemmVariant {
  readonly tile: MatmulTile;
  /** WGSL `fn loadA(m: u32, k: u32) -> f32` and `fn loadB(k: u32, n: u32) -> f32`. */
  readonly loaders: string;
  /** Order of the global reads: true when A's contiguous axis is m (false: k); B's is n (false: k). */
  readonly aAlongM: boolean;
  readonly bAlongN: boolean;
  readonly accumulate: boolean;
  /** The output binding's name. */
  readonly output: string;
  /**
   * Split K: workgroup z sums only k in [z P.kChunk, (z+1) P.kChunk) and writes its partial
   * block to `partial[z M N + ...]`; splitReduceWgsl adds the partials into the output.
   */
  readonly split: boolean;
  /** Floats of padding per workgroup-memory row (4, or 0 when workgroup memory is short). */
  readonly pad: number;
}

/**
 * `loadA` and `loadB` that return the WGSL expressions `a` (of m, k) and `b` (of k, n) inside
 * A[M,K] and B[K,N], and 0 outside.
 */
export function boundedLoaders(a: string, b: string): string {
  return `
fn loadA(m: u32, k: u32) -> f32 {
  if (m < P.M && k < P.K) { return ${a}; }
  return 0.0;
}
fn loadB(k: u32, n: u32) -> f32 {
  if (k < P.K && n < P.N) { return ${b}; }
  return 0.0;
}`;
}

export function gemmWgsl(v: GemmVariant): string {
  const { BM, BN, BK, TM, TN } = v.tile;
  const WX = BN / TN,
    WY = BM / TM,
    T = WX * WY;
  const SA = BM + v.pad,
    SB = BN + v.pad; // floats per workgroup-memory row
  const LA = (BM * BK) / T,
    LB = (BN * BK) / T; // global loads per invocation per slab
  const R = TM / 4,
    S = TN / 4;
  const lines: string[] = [];
  const emit = (s: string) => lines.push(s);

  // (k, m) of A's element number idx of the slab, and (k, n) of B's: the contiguous axis fastest.
  const aIndex = (idx: string) =>
    v.aAlongM ? [`(${idx}) / ${BM}u`, `(${idx}) % ${BM}u`] : [`(${idx}) % ${BK}u`, `(${idx}) / ${BK}u`];
  const bIndex = (idx: string) =>
    v.bAlongN ? [`(${idx}) / ${BN}u`, `(${idx}) % ${BN}u`] : [`(${idx}) % ${BK}u`, `(${idx}) / ${BK}u`];

  // One slab's loads of op(a) / op(b) into registers ra*/rb*, then into workgroup buffer `dst`.
  const loads = (k0: string) => {
    for (let l = 0; l < LA; l++) {
      const idx = `lid + ${l * T}u`;
      const [kk, mm] = aIndex(idx);
      emit(`    ra${l} = loadA(m0 + ${mm}, ${k0} + ${kk});`);
    }
    for (let l = 0; l < LB; l++) {
      const idx = `lid + ${l * T}u`;
      const [kk, nn] = bIndex(idx);
      emit(`    rb${l} = loadB(${k0} + ${kk}, n0 + ${nn});`);
    }
  };
  const stores = (buf: string) => {
    for (let l = 0; l < LA; l++) {
      const idx = `lid + ${l * T}u`;
      const [kk, mm] = aIndex(idx);
      emit(`    { let f = ${buf} * ${BK * SA}u + (${kk}) * ${SA}u + ${mm}; As[f / 4u][f % 4u] = ra${l}; }`);
    }
    for (let l = 0; l < LB; l++) {
      const idx = `lid + ${l * T}u`;
      const [kk, nn] = bIndex(idx);
      emit(`    { let f = ${buf} * ${BK * SB}u + (${kk}) * ${SB}u + ${nn}; Bs[f / 4u][f % 4u] = rb${l}; }`);
    }
  };

  emit(v.loaders);
  emit(`var<workgroup> As: array<vec4<f32>, ${(2 * BK * SA) / 4}>;`);
  emit(`var<workgroup> Bs: array<vec4<f32>, ${(2 * BK * SB) / 4}>;`);
  emit("");
  emit(`@compute @workgroup_size(${WX}, ${WY})`);
  emit("fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {");
  emit(`  let tx = lid % ${WX}u;`);
  emit(`  let ty = lid / ${WX}u;`);
  emit(`  let m0 = wid.y * ${BM}u;`);
  emit(`  let n0 = wid.x * ${BN}u;`);
  if (v.split) {
    emit("  let kBegin = wid.z * P.kChunk;");
    emit("  let kEnd = min(P.K, kBegin + P.kChunk);");
  } else {
    emit("  let kBegin = 0u;");
    emit("  let kEnd = P.K;");
  }
  emit(`  let slabs = (kEnd - kBegin + ${BK - 1}u) / ${BK}u;`);
  for (let l = 0; l < LA; l++) emit(`  var ra${l}: f32;`);
  for (let l = 0; l < LB; l++) emit(`  var rb${l}: f32;`);
  for (let r = 0; r < R; r++)
    for (let i = 0; i < 4; i++) for (let s = 0; s < S; s++) emit(`  var c${r}_${i}_${s} = vec4<f32>(0.0);`);
  emit("  {");
  loads("kBegin");
  stores("0u");
  emit("  }");
  emit("  workgroupBarrier();");
  emit("  for (var t = 0u; t < slabs; t++) {");
  emit("    let cur = t & 1u;");
  emit("    let more = t + 1u < slabs;");
  emit("    if (more) {");
  emit(`    let k0 = kBegin + (t + 1u) * ${BK}u;`);
  loads("k0");
  emit("    }");
  emit(`    let aBase = cur * ${(BK * SA) / 4}u + ty;`);
  emit(`    let bBase = cur * ${(BK * SB) / 4}u + tx;`);
  for (let kk = 0; kk < BK; kk++) {
    for (let r = 0; r < R; r++) emit(`    let a${kk}_${r} = As[aBase + ${(kk * SA) / 4 + r * WY}u];`);
    for (let s = 0; s < S; s++) emit(`    let b${kk}_${s} = Bs[bBase + ${(kk * SB) / 4 + s * WX}u];`);
    for (let r = 0; r < R; r++) {
      for (let i = 0; i < 4; i++) {
        for (let s = 0; s < S; s++)
          emit(`    c${r}_${i}_${s} = fma(vec4<f32>(a${kk}_${r}[${i}]), b${kk}_${s}, c${r}_${i}_${s});`);
      }
    }
  }
  emit("    if (more) {");
  stores("(cur ^ 1u)");
  emit("    }");
  emit("    workgroupBarrier();");
  emit("  }");
  for (let r = 0; r < R; r++) {
    for (let i = 0; i < 4; i++) {
      emit(`  { let row = m0 + ${r * 4 * WY + i}u + 4u * ty;`);
      emit("    if (row < P.M) {");
      for (let s = 0; s < S; s++) {
        emit(`      { let col = n0 + ${s * 4 * WX}u + 4u * tx; let v = c${r}_${i}_${s};`);
        for (let j = 0; j < 4; j++) {
          const at = `${v.split ? "wid.z * P.M * P.N + " : ""}row * P.N + col + ${j}u`;
          const value = v.accumulate && !v.split ? `${v.output}[${at}] + v[${j}]` : `v[${j}]`;
          emit(`        if (col + ${j}u < P.N) { ${v.output}[${at}] = ${value}; }`);
        }
        emit("      }");
      }
      emit("    }");
      emit("  }");
    }
  }
  emit("}");
  return lines.join("\n");
}

/** The sum of split-K partial blocks: out[i] (+)= sum_z partial[z n + i], z < P.S, i < P.n. */
export const splitReduceWgsl = (accumulate: boolean): string =>
  elementwiseMain(`  var s = partial[i];
  for (var z = 1u; z < P.S; z++) { s += partial[z * P.n + i]; }
  out[i] = ${accumulate ? "out[i] + s" : "s"};`);
