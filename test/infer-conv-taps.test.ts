import { describe, expect, it } from "vitest";
import { Xoshiro128 } from "../src/core/rng.js";
import type { BcnetConv } from "../src/format/bcnet.js";
import { convOutputShape } from "../src/format/shapes.js";
import { instantiateInfer, type InferExports } from "../src/infer/module.js";
import { convTakesTaps, tapBits, tapsPool } from "../src/infer/wasmEngine.js";

// conv2dTaps (wasm/infer/convTaps.ts: the 4-input tables built once per input row) against
// conv2dLut (the same tables over unfolded patches): for channels in multiples of 4, the same
// float32 operations in the same order, so the outputs must be the same bits; for other channel
// counts (padded to 4 with zeros, the weights' rows re-laid by tapBits), within float32 rounding
// of the formula summed in float64 here.

interface Case {
  name: string;
  images: number;
  h: number;
  w: number;
  c: number;
  kernel: [number, number];
  pad: [number, number];
  units: number;
}

/** A case: `images` images of h x w x c, a kernel, padding and filter count. */
const layer = (
  name: string,
  images: number,
  [h, w, c]: [number, number, number],
  kernel: [number, number],
  pad: [number, number],
  units: number,
): Case => ({ name, images, h, w, c, kernel, pad, units });

const cases: Case[] = [
  layer("32x32x8 -> 5C3 (2 column blocks a row, odd filters)", 2, [32, 32, 8], [3, 3], [1, 1], 5),
  layer("16x16x32 -> 32C3 (one block a row)", 3, [16, 16, 32], [3, 3], [1, 1], 32),
  layer("8x8x64 -> 17C3 (blocks of 2 rows)", 2, [8, 8, 64], [3, 3], [1, 1], 17),
  layer("4x4x16 -> 9C3 (blocks of 4 rows = the image)", 3, [4, 4, 16], [3, 3], [1, 1], 9),
  layer("2x8x8 -> 3C3 (blocks of 2 rows, ho = 2)", 5, [2, 8, 8], [3, 3], [1, 1], 3),
  layer("20x16x24 -> 11C5x3 (pad 2x1)", 2, [20, 16, 24], [5, 3], [2, 1], 11),
  layer("18x18x16 -> 7C3 (pad 0: 16x16 out)", 2, [18, 18, 16], [3, 3], [0, 0], 7),
  layer("12x12x8 -> 6C5 (pad 4: wider than the kernel's half)", 1, [12, 12, 8], [5, 5], [4, 4], 6),
  layer("16x16x8 -> 4C1 (1x1 kernel)", 2, [16, 16, 8], [1, 1], [0, 0], 4),
  layer("16x16x136 -> 191C3 (17 groups a tap, the most filters)", 1, [16, 16, 136], [3, 3], [1, 1], 191),
  layer("16x16x4 -> 8C3 (one quad a tap: groups span two taps, 9 quads)", 2, [16, 16, 4], [3, 3], [1, 1], 8),
  layer("8x8x12 -> 5C3 (3 quads a tap)", 2, [8, 8, 12], [3, 3], [1, 1], 5),
];

/** Channel counts not a multiple of 4: padded to quads, compared with the formula in float64. */
const padded: Case[] = [
  layer("32x32x3 -> 32C3 (RGB, the first layer)", 2, [32, 32, 3], [3, 3], [1, 1], 32),
  layer("16x16x1 -> 7C3 (gray)", 2, [16, 16, 1], [3, 3], [1, 1], 7),
  layer("8x8x6 -> 5C5x3 (pad 2x1: a quad and a half a tap)", 3, [8, 8, 6], [5, 3], [2, 1], 5),
  layer("4x4x2 -> 3C3 (blocks of 4 rows)", 2, [4, 4, 2], [3, 3], [1, 1], 3),
];

/** Outputs of even sides with blocks of one row of 16 or two rows of 8: conv2dTaps's fused 2 x 2 pooling. */
const pooledCases: Case[] = [
  layer("32x32x8 -> 5C3 (2 column blocks a row, odd filters)", 2, [32, 32, 8], [3, 3], [1, 1], 5),
  layer("16x16x32 -> 32C3 (one block a row)", 3, [16, 16, 32], [3, 3], [1, 1], 32),
  layer("8x8x64 -> 17C3 (blocks of 2 rows)", 2, [8, 8, 64], [3, 3], [1, 1], 17),
  layer("2x8x8 -> 3C3 (blocks of 2 rows, ho = 2)", 5, [2, 8, 8], [3, 3], [1, 1], 3),
  layer("20x16x24 -> 11C5x3 (pad 2x1: 6 row starts a step)", 2, [20, 16, 24], [5, 3], [2, 1], 11),
  layer("18x18x16 -> 7C3 (pad 0: 16x16 out)", 2, [18, 18, 16], [3, 3], [0, 0], 7),
  layer("16x16x136 -> 191C3 (the most filters)", 1, [16, 16, 136], [3, 3], [1, 1], 191),
  layer("32x32x3 -> 32C3 (RGB: channels padded to 4)", 2, [32, 32, 3], [3, 3], [1, 1], 32),
];

const align = (n: number) => Math.ceil(n / 64) * 64;

/**
 * One case laid out in a fresh memory: random inputs (with exact zeros, -0 and, when `huge`,
 * large values), sign bits, scales (0.5 to 1.5, every odd unit's negated when `bothSigns`) and
 * shifts, conv2dTaps's scratch (two blocks: its pooling takes them) and room for three outputs
 * of `outFloats`.
 */
async function setUp(k: Case, seed: number, huge: boolean, bothSigns: boolean) {
  const memory = new WebAssembly.Memory({ initial: 1 });
  const m: InferExports = await instantiateInfer(memory);
  const rng = new Xoshiro128(seed);
  const [kh, kw] = k.kernel,
    [ph, pw] = k.pad;
  const ho = k.h + 2 * ph - kh + 1,
    wo = k.w + 2 * pw - kw + 1;
  const K = kh * kw * k.c,
    rb = Math.ceil(K / 8);
  const xFloats = k.images * k.h * k.w * k.c,
    outFloats = k.images * ho * wo * k.units;
  let p = align(m.heapBase());
  const take = (bytes: number) => {
    const at = p;
    p = align(p + bytes);
    return at;
  };
  const at = {
    x: take(4 * xFloats),
    bits: take(k.units * rb),
    scale: take(4 * k.units),
    shift: take(4 * k.units),
    ones: take(4 * k.units),
    zeros: take(Math.max(4 * k.units, 16 * Math.ceil(k.c / 4))),
    out: [take(4 * outFloats), take(4 * outFloats), take(4 * outFloats)] as const,
    patch: take(m.convPatchBytes(K)),
    block: take(2 * Math.ceil(k.units / 8) * 8 * 64),
    table: take(m.denseLutTableBytes()),
    cache: take(m.convTapsCacheBytes(k.c, kh, kw, wo)),
    groups: take(m.convTapsIndexBytes(k.c, kh, kw, k.units)),
    tapsBits: take(tapBits(layerOf(k, new Uint8Array(k.units * rb))).length),
  };
  memory.grow(Math.ceil(p / 65536) - memory.buffer.byteLength / 65536);
  const f32 = new Float32Array(memory.buffer);
  for (let i = 0; i < xFloats; i++) {
    const u = rng.next();
    f32[at.x / 4 + i] =
      u < 0.05 ? 0 : u < 0.08 ? -0 : u < 0.09 && huge ? 3e30 * (rng.next() - 0.5) : rng.uniform(-2, 2);
  }
  const bytes = new Uint8Array(memory.buffer);
  for (let i = 0; i < k.units * rb; i++) bytes[at.bits + i] = Math.floor(rng.next() * 256);
  for (let u = 0; u < k.units; u++) {
    f32[at.scale / 4 + u] = (bothSigns && u % 2 ? -1 : 1) * rng.uniform(0.5, 1.5);
    f32[at.shift / 4 + u] = rng.uniform(-1, 1);
    f32[at.ones / 4 + u] = 1;
  }
  const rowBits = bytes.slice(at.bits, at.bits + k.units * rb);
  bytes.set(tapBits(layerOf(k, rowBits)), at.tapsBits);
  const batch = [at.x, k.images, k.h, k.w, k.c] as const;
  /** conv2dTaps into out[which], with this epilogue, pooled or not. */
  const scratch = [at.cache, at.block, at.groups, at.zeros] as const;
  const taps = (which: 0 | 1 | 2, scale: number, shift: number, relu: number, pool: 0 | 1) =>
    m.conv2dTaps(
      ...batch,
      ...k.kernel,
      ...k.pad,
      ho,
      wo,
      at.tapsBits,
      k.units,
      scale,
      shift,
      relu,
      at.out[which],
      ...scratch,
      pool,
    );
  const u32 = (at: number, n: number) => new Uint32Array(memory.buffer).slice(at / 4, at / 4 + n);
  return { m, at, batch, ho, wo, outFloats, rowBits, f32, bytes, taps, u32 };
}

/** Runs conv2dLut and conv2dTaps (unpooled) on one case; returns their outputs and the case's data. */
async function runBoth(k: Case, relu: number, seed: number, huge = true) {
  const { m, at, batch, ho, wo, outFloats, rowBits, f32, taps, u32 } = await setUp(k, seed, huge, false);
  const epilogue = [at.bits, k.units, at.scale, at.shift, relu, at.out[1]] as const;
  m.conv2dLut(...batch, ...k.kernel, 1, 1, ...k.pad, ho, wo, ...epilogue, at.patch, at.block, at.table);
  taps(0, at.scale, at.shift, relu, 0);
  const xFloats = k.images * k.h * k.w * k.c;
  return {
    taps: u32(at.out[0], outFloats),
    lut: u32(at.out[1], outFloats),
    x: f32.slice(at.x / 4, at.x / 4 + xFloats),
    bits: rowBits,
    scale: f32.slice(at.scale / 4, at.scale / 4 + k.units),
    shift: f32.slice(at.shift / 4, at.shift / 4 + k.units),
  };
}

/**
 * conv2dTaps with its 2 x 2 pooling fused, and the unfused path the engine takes otherwise
 * (conv2dTaps's plain sums, then poolAffine with scale, shift and ReLU); scales of both signs,
 * so that pooling before the affine map matters; with `zeros`, all-zero images, all-minus weights
 * and shifts of -0 (signed zeros out). Returns both pooled outputs.
 */
async function runPooled(k: Case, relu: number, seed: number, zeros = false) {
  const { m, at, ho, wo, taps, u32, f32, bytes } = await setUp(k, seed, true, true);
  if (zeros) {
    f32.fill(0, at.x / 4, at.x / 4 + k.images * k.h * k.w * k.c);
    bytes.fill(0, at.tapsBits); // the last of the layout
    f32.fill(-0, at.shift / 4, at.shift / 4 + k.units);
  }
  const pooled = k.images * (ho / 2) * (wo / 2) * k.units;
  taps(0, at.scale, at.shift, relu, 1);
  taps(1, at.ones, at.zeros, 0, 0);
  m.poolAffine(
    at.out[1],
    k.images,
    ho,
    wo,
    k.units,
    2,
    2,
    2,
    2,
    ho / 2,
    wo / 2,
    at.scale,
    at.shift,
    1,
    relu,
    at.out[2],
  );
  return { fused: u32(at.out[0], pooled), unfused: u32(at.out[2], pooled) };
}

/** The case as a .bcnet convolution with these sign bits (for tapBits and convTakesTaps). */
function layerOf(k: Case, bits: Uint8Array): BcnetConv {
  return {
    kind: "conv",
    input: { height: k.h, width: k.w, channels: k.c },
    filters: k.units,
    kernel: k.kernel,
    stride: [1, 1],
    pad: k.pad,
    pool: null,
    activation: "identity",
    bits,
    scale: new Float32Array(k.units),
    shift: new Float32Array(k.units),
  };
}

/** The layer's outputs in float64 (act(scale s + shift), s the signed sum of the patch), and each output's sum of |terms|. */
function convFloat64(k: Case, r: Run, relu: number): { y: Float64Array; size: Float64Array } {
  const [kh, kw] = k.kernel,
    [ph, pw] = k.pad;
  const ho = k.h + 2 * ph - kh + 1,
    wo = k.w + 2 * pw - kw + 1,
    rb = Math.ceil((kh * kw * k.c) / 8);
  const y = new Float64Array(k.images * ho * wo * k.units),
    size = new Float64Array(y.length);
  for (let n = 0; n < k.images; n++)
    for (let i = 0; i < ho; i++)
      for (let j = 0; j < wo; j++)
        for (let f = 0; f < k.units; f++) {
          let s = 0,
            a = 0;
          for (let ki = 0; ki < kh; ki++)
            for (let kj = 0; kj < kw; kj++) {
              const si = i + ki - ph,
                sj = j + kj - pw;
              if (si < 0 || si >= k.h || sj < 0 || sj >= k.w) continue;
              for (let c = 0; c < k.c; c++) {
                const kk = (ki * kw + kj) * k.c + c,
                  v = r.x[((n * k.h + si) * k.w + sj) * k.c + c];
                s += (r.bits[f * rb + (kk >> 3)] >> (kk & 7)) & 1 ? v : -v;
                a += Math.abs(v);
              }
            }
          const o = ((n * ho + i) * wo + j) * k.units + f,
            v = r.scale[f] * s + r.shift[f];
          y[o] = relu && v <= 0 ? 0 : v;
          size[o] = Math.abs(r.scale[f]) * a + 1;
        }
  return { y, size };
}

type Run = Awaited<ReturnType<typeof runBoth>>;

describe("conv2dTaps (tables built once per input row) against conv2dLut (unfolded patches)", () => {
  for (const k of cases) {
    it(`${k.name}, ${k.images} image(s): the same bits, plain sums and with scale, shift and ReLU`, async () => {
      for (const relu of [0, 1]) {
        const { taps, lut } = await runBoth(k, relu, 11 + relu);
        let differ = 0;
        for (let i = 0; i < lut.length; i++) if (taps[i] !== lut[i]) differ++;
        expect(differ, `${differ} of ${lut.length} outputs differ`).toBe(0);
        const values = new Float32Array(lut.buffer);
        expect(new Set(values).size, "the outputs vary").toBeGreaterThan(Math.min(values.length / 4, 50));
      }
    });
  }
});

describe("conv2dTaps with its 2 x 2 max pooling fused against the plain sums, then poolAffine", () => {
  for (const k of pooledCases) {
    it(`${k.name}, ${k.images} image(s): the same bits, with and without ReLU, scales of both signs`, async () => {
      for (const relu of [0, 1]) {
        const { fused, unfused } = await runPooled(k, relu, 31 + relu);
        let differ = 0;
        for (let i = 0; i < unfused.length; i++) if (fused[i] !== unfused[i]) differ++;
        expect(differ, `${differ} of ${unfused.length} outputs differ`).toBe(0);
        expect(new Set(new Float32Array(unfused.buffer)).size, "the outputs vary").toBeGreaterThan(
          Math.min(unfused.length / 4, 50),
        );
      }
    });
  }
});

it("conv2dTaps's fused pooling on zero sums with shifts of -0: the same signed zeros as the unfused path", async () => {
  const k = layer("8x8x8 -> 4C3", 1, [8, 8, 8], [3, 3], [1, 1], 4);
  const { fused, unfused } = await runPooled(k, 0, 41, true);
  // the sums are +0 (they start from +0): +0 scale - 0 is +0 for the positive scales, -0 for the negative
  const values = Array.from(new Float32Array(unfused.buffer));
  expect(values.every((v) => v === 0)).toBe(true);
  expect(values.map((v, i) => Object.is(v, -0) === (i % 2 === 1)).every(Boolean)).toBe(true);
  expect(Array.from(fused)).toEqual(Array.from(unfused));
});

describe("conv2dTaps on channels padded to 4 (tapBits' rows) against the formula in float64", () => {
  for (const k of padded) {
    it(`${k.name}, ${k.images} image(s): within 1e-5 of each output's sum of |terms|, with and without ReLU`, async () => {
      for (const relu of [0, 1]) {
        const r = await runBoth(k, relu, 21 + relu, false);
        const got = new Float32Array(r.taps.buffer);
        const { y, size } = convFloat64(k, r, relu);
        let worst = 0;
        for (let i = 0; i < y.length; i++) worst = Math.max(worst, Math.abs(got[i] - y[i]) / size[i]);
        expect(worst).toBeLessThan(1e-5);
        expect(new Set(got).size, "the outputs vary").toBeGreaterThan(Math.min(got.length / 4, 50));
        // conv2dLut on the unpadded rows: the same sums up to float32 rounding
        const lut = new Float32Array(r.lut.buffer);
        for (let i = 0; i < y.length; i++) expect(Math.abs(got[i] - lut[i]) / size[i]).toBeLessThan(1e-5);
      }
    });
  }
});

describe("convTakesTaps: which convolutions take conv2dTaps", () => {
  const conv = (h: number, w: number, c: number, filters: number, stride = 1, pad = 1): BcnetConv => ({
    kind: "conv",
    input: { height: h, width: w, channels: c },
    filters,
    kernel: [3, 3],
    stride: [stride, stride],
    pad: [pad, pad],
    pool: null,
    activation: "relu",
    bits: new Uint8Array(0),
    scale: new Float32Array(0),
    shift: new Float32Array(0),
  });
  it("stride 1, fewer than 192 filters, whole blocks of 16 positions; any channel count", () => {
    expect(convTakesTaps(conv(32, 32, 32, 32))).toBe(true);
    expect(convTakesTaps(conv(8, 8, 128, 128))).toBe(true);
    expect(convTakesTaps(conv(4, 4, 8, 191))).toBe(true);
    expect(convTakesTaps(conv(32, 32, 3, 32))).toBe(true);
    expect(convTakesTaps(conv(16, 16, 12, 32))).toBe(true);
  });
  it("the rest stays on conv2dLut: stride 2, 192+ filters, widths like 12, 9 or 2, kernels wider than 5", () => {
    expect(convTakesTaps(conv(32, 32, 32, 32, 2))).toBe(false);
    expect(convTakesTaps(conv(16, 16, 64, 192))).toBe(false);
    expect(convTakesTaps(conv(12, 12, 8, 8))).toBe(false);
    expect(convTakesTaps(conv(9, 9, 8, 8))).toBe(false);
    expect(convTakesTaps(conv(3, 8, 8, 8))).toBe(false); // 24 positions: a block would span images
    expect(convTakesTaps(conv(2, 2, 8, 8, 1, 1))).toBe(false); // width 2: blocks of 8 rows
    expect(convTakesTaps({ ...conv(16, 16, 8, 8), kernel: [3, 7], pad: [1, 3] })).toBe(false); // 7 wide
    expect(convOutputShape({ height: 3, width: 8, channels: 8 }, 8, [3, 3], [1, 1], [1, 1]).width).toBe(8);
  });
  it("tapsPool: a 2x2, stride-2 pooling fuses on even outputs of rows of 16 or 8; 4-wide, 3x3 windows or unpooled do not", () => {
    const mp = (l: BcnetConv, window = 2): BcnetConv => ({
      ...l,
      pool: { window: [window, window], stride: [window, window] },
    });
    expect(tapsPool(mp(conv(32, 32, 32, 32)))).toBe(true);
    expect(tapsPool(mp(conv(16, 16, 3, 64)))).toBe(true);
    expect(tapsPool(mp(conv(8, 8, 128, 128)))).toBe(true);
    expect(tapsPool(mp(conv(4, 4, 16, 16)))).toBe(false); // blocks of 4 rows of 4
    expect(tapsPool(mp(conv(12, 12, 8, 8)))).toBe(false); // conv2dLut
    expect(tapsPool(mp(conv(18, 18, 8, 8), 3))).toBe(false);
    expect(tapsPool({ ...conv(16, 16, 8, 8), pool: { window: [3, 2], stride: [2, 2] } })).toBe(false);
    expect(tapsPool({ ...conv(16, 16, 8, 8), pool: { window: [2, 2], stride: [2, 1] } })).toBe(false);
    expect(tapsPool(conv(32, 32, 32, 32))).toBe(false);
  });
  it("tapBits: each tap's channels padded to 4 with 0 bits (C = 3: 27 -> 36 inputs a filter); C a multiple of 4 keeps the bits", () => {
    const l = { ...conv(4, 4, 3, 2), bits: Uint8Array.of(0xff, 0xff, 0xff, 0x07, 0b101, 0, 0, 0) };
    const padded = tapBits(l);
    expect(padded.length).toBe(2 * 5);
    expect(Array.from(padded.subarray(0, 5))).toEqual([0x77, 0x77, 0x77, 0x77, 0x07]);
    expect(Array.from(padded.subarray(5))).toEqual([0b101, 0, 0, 0, 0]);
    const four = { ...conv(4, 4, 4, 1), bits: new Uint8Array(5).fill(0xa5) };
    expect(tapBits(four)).toBe(four.bits);
  });
});
