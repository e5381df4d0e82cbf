/**
 * The WebAssembly SIMD128 ceiling of this machine, measured: f32x4.mul and f32x4.add in equal
 * numbers (baseline SIMD128 has no FMA) on independent accumulators, the most a SIMD128
 * matrix kernel can reach on one core; and, for the kernels built with relaxed SIMD, the same
 * loop of f32x4.relaxed_madd (a fused multiply-add where the CPU has one: 8 FLOPs an operation). The mul+add loop
 * ran at ~35.8 GFLOP/s per core on docs/RESULTS.md's Xeon (dev-2c-xeon); CPUs with separate add and multiply pipes (AMD Zen 4, dev-2c: ~48.6) go higher, so
 * measuring here keeps "fraction of the ceiling" meaningful on any machine. The module is
 * assembled below byte by byte (no build step). m and c are parameters so that the compiler
 * cannot fold `acc * 1` or `acc + 0`.
 */

/** The loop measured: separate products and sums (baseline SIMD128), or fused multiply-adds (relaxed SIMD). */
export type CeilingKind = "mul+add" | "fma";

/** Independent chains: mul+add: MUL_CHAINS of acc *= m and ADD_CHAINS of acc += c; fma: all of acc = acc * m + c. */
const MUL_CHAINS = 6;
const ADD_CHAINS = 6;
const ACCUMULATORS = MUL_CHAINS + ADD_CHAINS;
/** Loop body repetitions (amortizes the loop's own instructions). */
const UNROLL = 4;
/** FLOPs per loop iteration: one f32x4 operation = 4 FLOPs, one f32x4 multiply-add 8. */
const flopsPerIteration = (kind: CeilingKind) => ACCUMULATORS * UNROLL * (kind === "fma" ? 8 : 4);

const OP = {
  block: 0x02,
  loop: 0x03,
  br: 0x0c,
  brIf: 0x0d,
  end: 0x0b,
  localGet: 0x20,
  localSet: 0x21,
  i32Const: 0x41,
  i32Eqz: 0x45,
  i32Sub: 0x6b,
  void: 0x40,
  v128: 0x7b,
  i32: 0x7f,
  f32: 0x7d,
} as const;
const SIMD = {
  prefix: 0xfd,
  v128Const: [0x0c],
  splat: [0x13],
  extractLane: [0x1f],
  add: [0xe4, 0x01],
  mul: [0xe6, 0x01],
  relaxedMadd: [0x85, 0x02],
} as const;

function f32x4Const(v: number): number[] {
  const bytes = new Uint8Array(new Float32Array([v, v, v, v]).buffer);
  return [SIMD.prefix, ...SIMD.v128Const, ...bytes];
}

function section(id: number, content: number[]): number[] {
  return [id, ...uleb(content.length), ...content];
}

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n) byte |= 0x80;
    out.push(byte);
  } while (n);
  return out;
}

/**
 * (func (export "run") (param $n i32) (param $m f32) (param $c f32) (result f32)):
 * $n iterations; returns a lane of the accumulators' sum (so that nothing is dead code).
 */
function ceilingModule(kind: CeilingKind): Uint8Array<ArrayBuffer> {
  const n = 0,
    mIn = 1,
    cIn = 2,
    acc = 3,
    m = acc + ACCUMULATORS,
    c = m + 1; // params, then v128 locals
  const body: number[] = [1, ...uleb(ACCUMULATORS + 2), OP.v128];
  for (let k = 0; k < ACCUMULATORS; k++) body.push(...f32x4Const(1 + 0.001 * k), OP.localSet, acc + k);
  body.push(OP.localGet, mIn, SIMD.prefix, ...SIMD.splat, OP.localSet, m);
  body.push(OP.localGet, cIn, SIMD.prefix, ...SIMD.splat, OP.localSet, c);
  body.push(OP.block, OP.void, OP.loop, OP.void, OP.localGet, n, OP.i32Eqz, OP.brIf, 1);
  for (let u = 0; u < UNROLL; u++) {
    for (let k = 0; k < ACCUMULATORS; k++) {
      if (kind === "fma") {
        body.push(
          OP.localGet,
          acc + k,
          OP.localGet,
          m,
          OP.localGet,
          c,
          SIMD.prefix,
          ...SIMD.relaxedMadd,
          OP.localSet,
          acc + k,
        );
        continue;
      }
      const [operand, op] = k < MUL_CHAINS ? [m, SIMD.mul] : [c, SIMD.add];
      body.push(OP.localGet, acc + k, OP.localGet, operand, SIMD.prefix, ...op, OP.localSet, acc + k);
    }
  }
  body.push(OP.localGet, n, OP.i32Const, 1, OP.i32Sub, OP.localSet, n, OP.br, 0, OP.end, OP.end);
  body.push(OP.localGet, acc);
  for (let k = 1; k < ACCUMULATORS; k++) body.push(OP.localGet, acc + k, SIMD.prefix, ...SIMD.add);
  body.push(SIMD.prefix, ...SIMD.extractLane, 0, OP.end);
  const name = [..."run"].map((ch) => ch.charCodeAt(0));
  return new Uint8Array([
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00,
    ...section(1, [1, 0x60, 3, OP.i32, OP.f32, OP.f32, 1, OP.f32]),
    ...section(3, [1, 0]),
    ...section(7, [1, name.length, ...name, 0x00, 0]),
    ...section(10, [1, ...uleb(body.length), ...body]),
  ]);
}

/**
 * GFLOP/s of the SIMD128 mul+add loop (or the relaxed-SIMD multiply-add loop) on one core: the
 * best of `runs` runs of ~`runMs` ms. "fma" needs an engine that accepts relaxed SIMD (src/backends/wasm/simd.ts).
 */
export async function measureWasmSimdCeiling(kind: CeilingKind = "mul+add", runs = 15, runMs = 40): Promise<number> {
  const instance = await WebAssembly.instantiate(new WebAssembly.Module(ceilingModule(kind)));
  const wasmRun = instance.exports.run as (iterations: number, m: number, c: number) => number;
  const run = (iterations: number) => wasmRun(iterations, 1, 0);
  let iterations = 1 << 16;
  for (let t0 = performance.now(); performance.now() - t0 < 20; ) run(iterations); // warm-up / tier-up
  const t0 = performance.now();
  run(iterations);
  iterations = Math.max(iterations, Math.round((iterations * runMs) / Math.max(performance.now() - t0, 0.01)));
  let best = 0;
  for (let r = 0; r < runs; r++) {
    const t = performance.now();
    run(iterations);
    best = Math.max(best, (iterations * flopsPerIteration(kind)) / ((performance.now() - t) / 1000) / 1e9);
  }
  return best;
}
