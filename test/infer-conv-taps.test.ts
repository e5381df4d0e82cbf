import { describe, expect, it } from "vitest";
import { Xoshiro128 } from "../src/core/rng.js";
import type { BcnetConv } from "../src/format/bcnet.js";
import { convOutputShape } from "../src/format/shapes.js";
import { instantiateInfer, type InferExports } from "../src/infer/module.js";
import { convTakesTaps } from "../src/infer/wasmEngine.js";

// conv2dTaps (wasm/infer/convTaps.ts: the 4-input tables built once per input row) against
// conv2dLut (the same tables over unfolded patches): the same float32 operations in the same
// order, so the outputs must be the same bits.

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

const cases: Case[] = [
  {
    name: "32x32x8 -> 5C3 (2 column blocks a row, odd filters)",
    images: 2,
    h: 32,
    w: 32,
    c: 8,
    kernel: [3, 3],
    pad: [1, 1],
    units: 5,
  },
  {
    name: "16x16x32 -> 32C3 (one block a row)",
    images: 3,
    h: 16,
    w: 16,
    c: 32,
    kernel: [3, 3],
    pad: [1, 1],
    units: 32,
  },
  { name: "8x8x64 -> 17C3 (blocks of 2 rows)", images: 2, h: 8, w: 8, c: 64, kernel: [3, 3], pad: [1, 1], units: 17 },
  {
    name: "4x4x16 -> 9C3 (blocks of 4 rows = the image)",
    images: 3,
    h: 4,
    w: 4,
    c: 16,
    kernel: [3, 3],
    pad: [1, 1],
    units: 9,
  },
  {
    name: "2x8x8 -> 3C3 (blocks of 2 rows, ho = 2)",
    images: 5,
    h: 2,
    w: 8,
    c: 8,
    kernel: [3, 3],
    pad: [1, 1],
    units: 3,
  },
  { name: "20x16x24 -> 11C5x3 (pad 2x1)", images: 2, h: 20, w: 16, c: 24, kernel: [5, 3], pad: [2, 1], units: 11 },
  { name: "18x18x16 -> 7C3 (pad 0: 16x16 out)", images: 2, h: 18, w: 18, c: 16, kernel: [3, 3], pad: [0, 0], units: 7 },
  {
    name: "12x12x8 -> 6C5 (pad 4: wider than the kernel's half)",
    images: 1,
    h: 12,
    w: 12,
    c: 8,
    kernel: [5, 5],
    pad: [4, 4],
    units: 6,
  },
  { name: "16x16x8 -> 4C1 (1x1 kernel)", images: 2, h: 16, w: 16, c: 8, kernel: [1, 1], pad: [0, 0], units: 4 },
  {
    name: "16x16x136 -> 191C3 (17 groups a tap, the most filters)",
    images: 1,
    h: 16,
    w: 16,
    c: 136,
    kernel: [3, 3],
    pad: [1, 1],
    units: 191,
  },
];

const align = (n: number) => Math.ceil(n / 64) * 64;

/** Lays out one case in a fresh memory and runs both kernels; returns their outputs. */
async function runBoth(k: Case, relu: number, seed: number): Promise<{ taps: Uint32Array; lut: Uint32Array }> {
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
  const x = take(4 * xFloats),
    bits = take(k.units * rb),
    scale = take(4 * k.units),
    shift = take(4 * k.units);
  const outTaps = take(4 * outFloats),
    outLut = take(4 * outFloats);
  const patch = take(m.convPatchBytes(K)),
    block = take(Math.ceil(k.units / 8) * 8 * 64),
    table = take(m.denseLutTableBytes());
  const cache = take(m.convTapsCacheBytes(k.c, kh, kw, wo)),
    groups = take(m.convTapsIndexBytes(k.c, kh, kw)),
    zeros = take(4 * k.c);
  memory.grow(Math.ceil(p / 65536) - memory.buffer.byteLength / 65536);
  const f32 = new Float32Array(memory.buffer);
  // inputs: mostly uniform, with exact zeros, -0 and large values among them
  for (let i = 0; i < xFloats; i++) {
    const u = rng.next();
    f32[x / 4 + i] = u < 0.05 ? 0 : u < 0.08 ? -0 : u < 0.09 ? 3e30 * (rng.next() - 0.5) : rng.uniform(-2, 2);
  }
  const bytes = new Uint8Array(memory.buffer);
  for (let i = 0; i < k.units * rb; i++) bytes[bits + i] = Math.floor(rng.next() * 256);
  for (let u = 0; u < k.units; u++) {
    f32[scale / 4 + u] = rng.uniform(0.5, 1.5);
    f32[shift / 4 + u] = rng.uniform(-1, 1);
  }
  const output = [ho, wo, bits, k.units, scale, shift, relu] as const;
  const batch = [x, k.images, k.h, k.w, k.c] as const;
  m.conv2dTaps(...batch, kh, kw, ph, pw, ...output, outTaps, cache, block, groups, zeros);
  m.conv2dLut(...batch, kh, kw, 1, 1, ph, pw, ...output, outLut, patch, block, table);
  const u32 = new Uint32Array(memory.buffer);
  return { taps: u32.slice(outTaps / 4, outTaps / 4 + outFloats), lut: u32.slice(outLut / 4, outLut / 4 + outFloats) };
}

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
  it("stride 1, channels in multiples of 8, fewer than 192 filters, whole blocks of 16 positions", () => {
    expect(convTakesTaps(conv(32, 32, 32, 32))).toBe(true);
    expect(convTakesTaps(conv(8, 8, 128, 128))).toBe(true);
    expect(convTakesTaps(conv(4, 4, 8, 191))).toBe(true);
  });
  it("the rest stays on conv2dLut: 3 channels, stride 2, 192+ filters, widths like 12 or 9", () => {
    expect(convTakesTaps(conv(32, 32, 3, 32))).toBe(false);
    expect(convTakesTaps(conv(32, 32, 12, 32))).toBe(false);
    expect(convTakesTaps(conv(32, 32, 32, 32, 2))).toBe(false);
    expect(convTakesTaps(conv(16, 16, 64, 192))).toBe(false);
    expect(convTakesTaps(conv(12, 12, 8, 8))).toBe(false);
    expect(convTakesTaps(conv(9, 9, 8, 8))).toBe(false);
    expect(convTakesTaps(conv(3, 8, 8, 8))).toBe(false); // 24 positions: a block would span images
    expect(convOutputShape({ height: 3, width: 8, channels: 8 }, 8, [3, 3], [1, 1], [1, 1]).width).toBe(8);
  });
});
