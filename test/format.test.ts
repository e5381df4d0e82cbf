import { readFileSync } from "node:fs";
import { crc32 as zlibCrc32 } from "node:zlib";
import { describe, expect, it } from "vitest";
import { c3, randomImageModel, randomModel, withSteps } from "./bcnet-fixtures.js";
import { ModelFormatError, ShapeError } from "../src/core/errors.js";
import { Xoshiro128 } from "../src/core/rng.js";
import { BinaryClassifier } from "../src/infer/classifier.js";
import {
  BCNET_MAGIC,
  HEADER_BYTES,
  LIMITS,
  architecture,
  layerSizes,
  layoutOf,
  type BcnetModel,
} from "../src/format/bcnet.js";
import { crc32 } from "../src/format/crc32.js";
import { decodeBcnet } from "../src/format/decode.js";
import { encodeBcnet } from "../src/format/encode.js";
import { foldBatchNorm } from "../src/format/fold.js";
import { packSigns, unpackSigns } from "../src/format/pack.js";
import { stepArrays, type PreprocessKind, type PreprocessStep } from "../src/format/preprocessing.js";

const model = randomModel([20, 12, 5], 3);
const good = encodeBcnet(model);
/** A version 2 model: conv 3x3 (pooled 2x2), conv (stride 1x2, pad 1x0), max pool 2x1, dense, dense on an 8x7x2 image. */
const convModel = randomImageModel(
  { height: 8, width: 7, channels: 2 },
  [
    c3(4, true),
    { ...c3(3), stride: [1, 2], pad: [1, 0] },
    { kind: "maxpool", window: [2, 1], stride: [1, 1] },
    { kind: "dense", units: 7, activation: "relu" },
    { kind: "dense", units: 3, activation: "identity" },
  ],
  4,
);
const goodConv = encodeBcnet(convModel);
/** A version 3 model: the CNN above with every kind of preprocessing step. */
const ALL_STEPS: PreprocessKind[] = ["scale", "subtractMean", "gcn", "zca", "lcn"];
const v3Model = withSteps(convModel, ALL_STEPS);
const goodV3 = encodeBcnet(v3Model);
/** Where the preprocessing table of goodV3 starts (after the 5 layer entries). */
const STEPS_AT = HEADER_BYTES + 32 * convModel.layers.length;
/** A small version 3 file for the fuzz test (4x3x2 inputs: P is 576 floats), every step kind: 2 layers, 5 steps. */
const fuzzV3 = encodeBcnet(
  withSteps(
    randomImageModel(
      { height: 4, width: 3, channels: 2 },
      [c3(3, true), { kind: "dense", units: 3, activation: "identity" }],
      6,
    ),
    ALL_STEPS,
    7,
  ),
);

/** The decoder's error for `bytes` (fails the test when it decodes). */
function errorOf(bytes: Uint8Array): ModelFormatError {
  try {
    decodeBcnet(bytes, "m.bcnet");
  } catch (e) {
    if (e instanceof ModelFormatError) return e;
    throw e;
  }
  throw new Error("decoded without an error");
}

function withCrc(bytes: Uint8Array): Uint8Array {
  new DataView(bytes.buffer, bytes.byteOffset).setUint32(16, crc32(bytes.subarray(20)), true);
  return bytes;
}

describe(".bcnet encode / decode", () => {
  it("crc32 equals zlib's", () => {
    for (const s of ["", "a", "123456789", "BinaryConnect"]) {
      const b = new TextEncoder().encode(s);
      expect(crc32(b)).toBe(zlibCrc32(b));
    }
    expect(crc32(good)).toBe(zlibCrc32(good));
  });

  it("round-trips every field, is deterministic, and sizes sections as layoutOf says", () => {
    const back = decodeBcnet(good);
    expect(back.inputs).toBe(20);
    expect(back.info).toEqual(model.info);
    expect(back.preprocessing.shape).toEqual([20]);
    expect(plainSteps(back.preprocessing.steps)).toEqual(plainSteps(model.preprocessing.steps)); // [scale(float32 1/255), subtractMean(mean)]
    expect(back.image).toBeUndefined();
    expectSameLayers(back, model);
    expect(Array.from(encodeBcnet(back))).toEqual(Array.from(good));
    expect(good.length).toBe(
      layoutOf(1, 20, model.layers.map(layerSizes), new TextEncoder().encode(JSON.stringify(model.info)).length)
        .fileBytes,
    );
    // An unaligned view of the same bytes decodes too.
    const shifted = new Uint8Array(good.length + 1);
    shifted.set(good, 1);
    const shift = (m: BcnetModel) => (m.layers[1] as { shift: Float32Array }).shift[2];
    expect(shift(decodeBcnet(shifted.subarray(1)))).toBe(shift(model));
  });

  it("the paper's MNIST MLP (784-1024-1024-1024-10) takes <= 0.40 MiB", () => {
    const sizes = [784, 1024, 1024, 1024, 10];
    const bytes = layoutOf(
      1,
      784,
      sizes.slice(1).map((units, i) => ({ affine: units, bitBytes: units * Math.ceil(sizes[i] / 8) })),
      300,
    ).fileBytes;
    expect(bytes / 2 ** 20).toBeLessThanOrEqual(0.4);
    expect(bytes).toBeGreaterThan(2_910_208 / 8); // 1 bit per weight, plus the floats
  });

  it("rejects a wrong magic, an unknown version, a truncated file and a checksum mismatch, each with its own error", () => {
    const magic = good.slice();
    magic[1] = 0x58;
    expect(errorOf(magic).problem).toBe("magic");
    expect(errorOf(magic).message).toMatch(
      /m\.bcnet: not a \.bcnet model: expected the magic 89 42 43 4e 45 54 0d 0a .* found 89 58 43/,
    );
    expect(errorOf(magic).message).toMatch(/`binaryconnect export` or the library's model\.exportBcnet\(\)/);
    expect(errorOf(new TextEncoder().encode("BCONNECT\x01\x00\x00\x00")).problem).toBe("magic"); // a checkpoint
    const version = good.slice();
    new DataView(version.buffer).setUint32(8, 4, true);
    expect(errorOf(version).problem).toBe("version");
    expect(errorOf(version).message).toMatch(
      /model format version 4; this binaryconnect reads versions 1, 2 and 3[\s\S]*hint: .*newer binaryconnect/,
    );
    new DataView(version.buffer).setUint32(8, 0, true);
    expect(errorOf(version).message).toMatch(/model format version 0;[\s\S]*hint: export the model again/);
    for (const n of [0, 3, 8, 30, HEADER_BYTES, good.length - 1]) {
      const e = errorOf(good.subarray(0, n));
      expect(e.problem, `cut at ${n}`).toBe("truncated");
      expect(e.message).toMatch(/truncated/);
    }
    expect(errorOf(good.subarray(0, good.length - 5)).message).toMatch(
      /file is \d+ bytes but its header declares \d+: the file is truncated \(5 bytes missing\)/,
    );
    const flipped = good.slice();
    flipped[good.length - 20] ^= 0x10;
    expect(errorOf(flipped).problem).toBe("checksum");
    expect(errorOf(flipped).message).toMatch(
      /checksum mismatch \(stored 0x[0-9a-f]{8}, computed 0x[0-9a-f]{8}\): the file is corrupt/,
    );
    const longer = new Uint8Array(good.length + 4);
    longer.set(good);
    expect(errorOf(longer).problem).toBe("invalid");
  });

  it("rejects headers that contradict the layout even with a valid checksum", () => {
    const set = (at: number, v: number) => {
      const b = good.slice();
      new DataView(b.buffer).setUint32(at, v, true);
      return withCrc(b);
    };
    expect(errorOf(set(24, 0)).message).toMatch(/0 layers; the format allows 1\.\.64/);
    expect(errorOf(set(24, 1e9)).message).toMatch(/layers; the format allows/);
    expect(errorOf(set(20, 21)).message).toMatch(
      /the header's sizes \(21-12-5, \d+ bytes of info\) make a \d+-byte file/,
    );
    expect(errorOf(set(HEADER_BYTES, 7)).message).toMatch(/layer 0 has kind 7/);
    expect(errorOf(set(HEADER_BYTES + 8, 2)).message).toMatch(/activation 2; expected 0 \(identity\) or 1 \(relu\)/);
    expect(errorOf(set(28, 0)).problem).toBe("invalid");
  });

  it("version 2: a CNN round-trips (image, conv with pooling, stride and padding, max pool, dense), and its architecture reads as the paper's", () => {
    expect(new DataView(goodConv.buffer).getUint32(8, true)).toBe(2);
    expect(new DataView(good.buffer).getUint32(8, true)).toBe(1); // an MLP stays version 1: older readers keep reading it
    const back = decodeBcnet(goodConv);
    expect(back.image).toEqual({ height: 8, width: 7, channels: 2 });
    expectSameLayers(back, convModel);
    expect(Array.from(encodeBcnet(back))).toEqual(Array.from(goodConv));
    expect(architecture(back)).toBe("8x7x2-4C3-MP2-3C3s1x2p1x0-MP2x1s1-7FC-3");
    const [conv0, conv1, pool, dense0] = back.layers;
    expect(conv0.kind === "conv" && conv0.pool).toEqual({ window: [2, 2], stride: [2, 2] });
    expect(conv1.kind === "conv" && conv1.input).toEqual({ height: 4, width: 3, channels: 4 });
    expect(pool.kind === "maxpool" && pool.input).toEqual({ height: 4, width: 1, channels: 3 });
    expect(dense0.kind === "dense" && dense0.inputs).toBe(3 * 1 * 3);
    const info = new TextEncoder().encode(JSON.stringify(convModel.info)).length;
    expect(goodConv.length).toBe(layoutOf(2, 112, convModel.layers.map(layerSizes), info).fileBytes);
    expect(conv0.kind === "conv" && conv0.bits.length).toBe(4 * Math.ceil((9 * 2) / 8));
  });

  it("reads the version 1 file the previous release wrote (the demo's MNIST MLP)", async () => {
    const file = new Uint8Array(readFileSync(new URL("../demo/public/mnist-mlp.bcnet", import.meta.url)));
    expect(new DataView(file.buffer, file.byteOffset).getUint32(8, true)).toBe(1);
    const m = decodeBcnet(file);
    expect(architecture(m)).toMatch(/^784-(\d+-)+10$/);
    expect(Array.from(encodeBcnet(m))).toEqual(Array.from(file));
    expect((await BinaryClassifier.load(m)).predict(new Uint8Array(784)).scores.length).toBe(10);
  });

  it("version 2: rejects unknown kinds, windows that do not fit, a conv after a dense layer, a wrong image and a conv last, with a valid checksum", () => {
    const T = HEADER_BYTES; // the first entry (32 bytes each)
    const set = (at: number, v: number, bytes = 4) => {
      const b = goodConv.slice();
      const view = new DataView(b.buffer);
      if (bytes === 4) view.setUint32(at, v, true);
      else view.setUint16(at, v, true);
      return withCrc(b);
    };
    expect(errorOf(set(T, 4)).message).toMatch(
      /layer 0 has kind 4; version 2 knows kinds 1 \(binary dense\), 2 \(binary convolution\) and 3 \(max pooling\)/,
    );
    expect(errorOf(set(T + 20, 3, 2)).message).toMatch(
      /layer 0 \(conv\): padding 3x1; expected 0\.\.kernel-1 per side/,
    );
    expect(errorOf(set(T + 12, 33, 2)).message).toMatch(/kernel 33x3; the format allows 1\.\.32 per side/);
    expect(errorOf(set(T + 24, 9, 2)).message).toMatch(/the 9x2 pooling window does not fit its 8x7x2 input/);
    expect(errorOf(set(T + 32 * 2 + 4, 9)).message).toMatch(/layer 2 \(maxpool\): units and activation must be 0/);
    expect(errorOf(set(36, 5)).message).toMatch(/the input image 5x7x2 does not hold the 112 inputs/);
    expect(errorOf(set(T + 32 * 3, 2)).message).toMatch(
      /layer 3 \(conv\): kernel 0x0; the format allows 1\.\.32 per side/,
    );
    expect(errorOf(set(T + 32 * 4, 2)).message).toMatch(/layer 4 \(conv\) needs an image, but its input is 7 features/);
    expect(errorOf(set(T + 30, 1, 2)).message).toMatch(/pooling stride 2x1|the header's sizes/);
    const v1conv = good.slice();
    new DataView(v1conv.buffer).setUint32(HEADER_BYTES, 2, true);
    expect(errorOf(withCrc(v1conv)).message).toMatch(
      /layer 0 has kind 2; version 1 knows kind 1 \(binary dense\) only/,
    );
  });

  for (const [name, file, tableWords, mutations] of [
    ["an MLP (version 1)", good, 8, 3000],
    ["a CNN (version 2)", goodConv, 16, 2000],
    ["a CNN with every preprocessing step (version 3)", fuzzV3, 8 * (2 + 5), 2000],
  ] as const) {
    it(`fuzz: ${mutations.toLocaleString("en-US")} random mutations of ${name} give only ModelFormatError (or a model that runs), never another exception`, async () => {
      const rng = new Xoshiro128(20251127);
      const int = (n: number) => Math.floor(rng.next() * n);
      const counts = { magic: 0, version: 0, truncated: 0, checksum: 0, invalid: 0, decoded: 0 };
      const started = performance.now();
      for (let i = 0; i < mutations; i++) {
        let b: Uint8Array = file.slice();
        const kind = int(6);
        if (kind === 0)
          b = b.subarray(0, int(b.length)); // truncate
        else if (kind === 1)
          for (let j = 0, n = 1 + int(4); j < n; j++) b[int(b.length)] ^= 1 << int(8); // bit flips
        else if (kind === 2)
          for (let j = 0, n = 1 + int(8); j < n; j++) b[int(b.length)] = int(256); // random bytes
        else if (kind === 3)
          b.set(
            Uint8Array.from({ length: 4 }, () => int(256)),
            4 * int(HEADER_BYTES / 4 + tableWords),
          ); // header and table words
        else if (kind === 4) {
          // a header or table word (a small value, one of 16 bits, or any), checksum fixed: exercises the checks after the CRC
          const r = rng.next();
          new DataView(b.buffer).setUint32(
            4 * (3 + int(HEADER_BYTES / 4 + tableWords - 3)),
            r < 0.3 ? int(8) : r < 0.6 ? int(1 << 16) : rng.nextUint32(),
            true,
          );
          withCrc(b);
        } else {
          // random bytes anywhere, checksum fixed
          for (let j = 0, n = 1 + int(16); j < n; j++) b[20 + int(b.length - 20)] = int(256);
          withCrc(b);
        }
        try {
          const decoded = decodeBcnet(b);
          const scores = (await BinaryClassifier.load(decoded)).predict(new Uint8Array(decoded.inputs)).scores;
          const last = decoded.layers[decoded.layers.length - 1];
          expect(scores.length).toBe(last.kind === "dense" ? last.units : -1);
          counts.decoded++;
        } catch (e) {
          if (!(e instanceof ModelFormatError)) throw new Error(`mutation ${i} (kind ${kind}) threw ${String(e)}`);
          counts[e.problem]++;
        }
      }
      expect(performance.now() - started).toBeLessThan(10_000); // no hang
      for (const k of ["magic", "truncated", "checksum", "invalid"] as const)
        expect(counts[k], JSON.stringify(counts)).toBeGreaterThan(10);
      expect(counts.version).toBeGreaterThan(0);
      expect(counts.decoded, JSON.stringify(counts)).toBeGreaterThan(10);
    });
  }

  it("encode refuses a model that contradicts itself", () => {
    const bad = { ...model, layers: [model.layers[1]] };
    expect(() => encodeBcnet(bad)).toThrow(ShapeError);
    expect(() => encodeBcnet(bad)).toThrow(/layer 0 has 12 inputs but the previous layer gives 20/);
    const [conv0, ...rest] = convModel.layers;
    const wrongImage = {
      ...convModel,
      layers: [{ ...conv0, input: { height: 5, width: 6, channels: 2 } }, ...rest],
    } as BcnetModel;
    expect(() => encodeBcnet(wrongImage)).toThrow(/layer 0 takes a 5x6x2 image but the previous layer gives 8x7x2/);
    const { image: _, ...noImage } = convModel;
    expect(() => encodeBcnet(noImage)).toThrow(/layer 0 \(conv\) needs an image, but its input is 112 features/);
    expect(() => encodeBcnet({ ...convModel, layers: convModel.layers.slice(0, 2) })).toThrow(
      /the last layer is conv; it must be dense/,
    );
  });

  it("starts with the magic", () => {
    expect(Array.from(good.subarray(0, 8))).toEqual(Array.from(BCNET_MAGIC));
  });
});

describe(".bcnet version 3: the preprocessing steps", () => {
  const sizesOf = (m: BcnetModel) => ({
    steps: m.preprocessing.steps.length,
    arrays: m.preprocessing.steps.flatMap(stepArrays).map((a) => a.length),
  });
  const infoBytes = (m: BcnetModel) => new TextEncoder().encode(JSON.stringify(m.info)).length;
  const version = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset).getUint32(8, true);
  const gcnStd: PreprocessStep = { kind: "gcn", scale: 1.5, sqrtBias: 0.25, minDivisor: 1e-3, useStd: true };
  const cases: [string, BcnetModel][] = [
    ...ALL_STEPS.map((k): [string, BcnetModel] => [k, withSteps(convModel, [k], 5)]),
    [
      "gcn with useStd, sqrtBias and minDivisor",
      { ...convModel, preprocessing: { shape: [8, 7, 2], steps: [gcnStd] } },
    ],
    ["no steps", withSteps(convModel, [])],
    ["[subtractMean, scale] (not the versions 1-2 order)", withSteps(convModel, ["subtractMean", "scale"])],
    ["all five kinds and scale again", withSteps(convModel, [...ALL_STEPS, "scale"])],
    ["gcn, zca on an MLP without an input image", withSteps(model, ["gcn", "zca"])],
  ];
  for (const [name, m] of cases) {
    it(`${name}: round-trips every parameter and array exactly, as version 3, sized as layoutOf says`, () => {
      const bytes = encodeBcnet(m);
      expect(version(bytes)).toBe(3);
      expect(bytes.length).toBe(layoutOf(3, m.inputs, m.layers.map(layerSizes), infoBytes(m), sizesOf(m)).fileBytes);
      const back = decodeBcnet(bytes);
      expect(back.preprocessing.shape).toEqual(m.preprocessing.shape);
      expect(plainSteps(back.preprocessing.steps)).toEqual(plainSteps(m.preprocessing.steps));
      expect(back.image).toEqual(m.image);
      expectSameLayers(back, m);
      expect(Array.from(encodeBcnet(back))).toEqual(Array.from(bytes));
    });
  }

  it("the old preprocessing [scale, subtractMean] is still written as version 1 or 2 (the factor as float32) and reads as those two steps", () => {
    const mlp = {
      ...model,
      preprocessing: {
        shape: [20],
        steps: [{ kind: "scale", factor: 1 / 255 }, model.preprocessing.steps[1]] as PreprocessStep[],
      },
    };
    const bytes = encodeBcnet(mlp);
    expect(version(bytes)).toBe(1);
    expect(new DataView(bytes.buffer).getFloat32(32, true)).toBe(Math.fround(1 / 255));
    const back = decodeBcnet(bytes).preprocessing;
    expect(back.steps.map((s) => s.kind)).toEqual(["scale", "subtractMean"]);
    expect(back.steps[0]).toEqual({ kind: "scale", factor: Math.fround(1 / 255) });
    expect(version(goodConv)).toBe(2);
    expect(decodeBcnet(goodConv).preprocessing.shape).toEqual([8, 7, 2]);
    // A factor float32 cannot hold does not fit versions 1 and 2.
    expect(
      version(
        encodeBcnet({
          ...mlp,
          preprocessing: { shape: [20], steps: [{ kind: "scale", factor: 1e300 }, model.preprocessing.steps[1]] },
        }),
      ),
    ).toBe(3);
  });

  it("the header and the preprocessing table, byte by byte (docs/FORMAT.md)", () => {
    const m: BcnetModel = {
      ...convModel,
      preprocessing: {
        shape: [8, 7, 2],
        steps: [gcnStd, { kind: "lcn", kernel: 7, sigma: 2, threshold: 1e-4 }, { kind: "scale", factor: 0.5 }],
      },
    };
    const b = encodeBcnet(m),
      v = new DataView(b.buffer);
    expect([v.getUint32(32, true), v.getUint32(36, true), v.getUint32(40, true), v.getUint32(44, true)]).toEqual([
      3, 8, 7, 2,
    ]);
    const entry = (i: number) => {
      const at = STEPS_AT + 32 * i;
      return [
        v.getUint32(at, true),
        v.getUint32(at + 4, true),
        v.getFloat64(at + 8, true),
        v.getFloat64(at + 16, true),
        v.getFloat64(at + 24, true),
      ];
    };
    expect(entry(0)).toEqual([3, 1, 1.5, 0.25, 1e-3]);
    expect(entry(1)).toEqual([5, 7, 2, 1e-4, 0]);
    expect(entry(2)).toEqual([1, 0, 0.5, 0, 0]);
    // The info follows the table at the next multiple of 16; an MLP without an image has zeros in bytes 36..47.
    expect(new TextDecoder().decode(b.subarray(STEPS_AT + 96, STEPS_AT + 96 + 10))).toBe('{"producer');
    const mlp = encodeBcnet(withSteps(model, ["zca"]));
    expect(Array.from(mlp.subarray(32, 48))).toEqual([1, 0, 0, 0, ...new Array(12).fill(0)]);
    // Its arrays: the mean (20 floats) then P (400 floats), each at a multiple of 16.
    const layout = layoutOf(3, 20, model.layers.map(layerSizes), infoBytes(model), { steps: 1, arrays: [20, 400] });
    const zca = withSteps(model, ["zca"]).preprocessing.steps[0] as Extract<PreprocessStep, { kind: "zca" }>;
    const mv = new DataView(mlp.buffer);
    expect(mv.getFloat32(layout.arrays[0] + 4 * 19, true)).toBe(zca.mean[19]);
    expect(mv.getFloat32(layout.arrays[1], true)).toBe(zca.P[0]);
    expect(layout.arrays[1] % 16).toBe(0);
  });

  it("rejects float arrays that are not finite (a layer's scale or shift, a mean), with a valid checksum", () => {
    const layout = layoutOf(
      1,
      20,
      model.layers.map(layerSizes),
      new TextEncoder().encode(JSON.stringify(model.info)).length,
    );
    const at = (offset: number, v: number, file = good) => {
      const b = file.slice();
      new DataView(b.buffer).setFloat32(offset, v, true);
      return withCrc(b);
    };
    const cases: [Uint8Array, RegExp][] = [
      [at(layout.layers[0].scale + 4 * 3, NaN), /layer 0's scale: value 3 is NaN; expected finite numbers/],
      [at(layout.layers[1].shift, -Infinity), /layer 1's shift: value 0 is -Infinity/],
      [at(layout.arrays[0] + 4 * 7, Infinity), /the mean: value 7 is Infinity/],
    ];
    for (const [bytes, message] of cases) {
      const e = errorOf(bytes);
      expect(e.problem, String(message)).toBe("invalid");
      expect(e.message).toMatch(message);
    }
  });

  it("rejects corrupt preprocessing tables with a valid checksum, each with a message naming the step", () => {
    const set = (at: number, v: number, as: "u32" | "f64" = "u32", file = goodV3) => {
      const b = file.slice();
      const view = new DataView(b.buffer);
      if (as === "u32") view.setUint32(at, v, true);
      else view.setFloat64(at, v, true);
      return withCrc(b);
    };
    const T = (i: number) => STEPS_AT + 32 * i; // steps: 0 scale, 1 subtractMean, 2 gcn, 3 zca, 4 lcn
    const cases: [Uint8Array, RegExp][] = [
      [
        set(T(0), 6),
        /preprocessing step 0 has kind 6; version 3 knows 1 \(scale\), 2 \(subtractMean\), 3 \(gcn\), 4 \(zca\) and 5 \(lcn\)/,
      ],
      [set(T(0), 0), /preprocessing step 0 has kind 0/],
      [set(T(0) + 8, NaN, "f64"), /preprocessing step 0 \(scale\): the factor is NaN; expected a finite number/],
      [set(T(0) + 4, 1), /preprocessing step 0 \(scale\): fields its kind does not use are not zero/],
      [set(T(1) + 16, 2.5, "f64"), /preprocessing step 1 \(subtractMean\): fields its kind does not use are not zero/],
      [set(T(2) + 4, 2), /preprocessing step 2 \(gcn\): useStd is 2; expected 0 or 1/],
      [set(T(2) + 8, Infinity, "f64"), /preprocessing step 2 \(gcn\): the scale is Infinity/],
      [set(T(2) + 24, NaN, "f64"), /step 2 \(gcn\): minDivisor is NaN/],
      [set(T(2) + 8, 0, "f64"), /step 2 \(gcn\): scale 0; expected > 0/],
      [set(T(4) + 4, 4), /preprocessing step 4 \(lcn\): kernel 4; expected an odd side 1\.\.31/],
      [set(T(4) + 4, 33), /step 4 \(lcn\): kernel 33; expected an odd side/],
      [set(T(4) + 8, 0, "f64"), /step 4 \(lcn\): sigma 0; expected > 0/],
      [set(T(4) + 16, -Infinity, "f64"), /step 4 \(lcn\): the threshold is -Infinity/],
      [set(T(4) + 24, 1, "f64"), /step 4 \(lcn\): fields its kind does not use are not zero/],
      [set(32, 17), /17 preprocessing steps; the format allows at most 16/],
      [set(32, 4_000_000_000), /4000000000 preprocessing steps/],
      [
        set(32, 4),
        /the header's sizes \(8x7x2-conv 4-conv 3-maxpool-7-3, \d+ bytes of info, 4 preprocessing steps \(scale, subtractMean, gcn, zca\)\) make a \d+-byte file/,
      ],
      [set(T(1), 1), /make a \d+-byte file/], // subtractMean read as scale: one array fewer
      [set(T(0), 4, "u32"), /step 0 \(zca\): fields its kind does not use are not zero|make a \d+-byte file/],
    ];
    for (const [bytes, message] of cases) {
      const e = errorOf(bytes);
      expect(e.problem, String(message)).toBe("invalid");
      expect(e.message).toMatch(message);
    }
    // LCN needs an input image: a model of dense layers on an image, its image zeroed (a feature vector in version 3).
    const imageMlp = withSteps(
      randomImageModel({ height: 4, width: 5, channels: 1 }, [{ kind: "dense", units: 3, activation: "identity" }]),
      ["lcn"],
    );
    const noImage = encodeBcnet(imageMlp).slice();
    noImage.fill(0, 36, 48);
    expect(errorOf(withCrc(noImage)).message).toMatch(
      /preprocessing step 0 \(lcn\) needs an input image, but the model's input is 20 features/,
    );
    // ZCA's P is inputs squared: more than LIMITS.zcaFeatures inputs are refused before anything is allocated.
    const zcaMlp = encodeBcnet(withSteps(model, ["zca"]));
    expect(errorOf(set(20, LIMITS.zcaFeatures + 1, "u32", zcaMlp)).message).toMatch(
      /a ZCA whitening of 8193 inputs; the format allows at most 8192/,
    );
    // Truncated inside the table or the arrays: the declared length says so before anything else.
    expect(errorOf(goodV3.subarray(0, T(3))).problem).toBe("truncated");
    expect(errorOf(goodV3.subarray(0, goodV3.length - 1000)).problem).toBe("truncated");
  });

  it("the writer refuses a preprocessing that does not fit the model (ShapeError)", () => {
    const steps = (p: BcnetModel["preprocessing"]) => () => encodeBcnet({ ...convModel, preprocessing: p });
    const shape = [8, 7, 2];
    const cases: [() => unknown, RegExp][] = [
      [
        steps({ shape: [112], steps: [] }),
        /the preprocessing applies to examples of shape \[112\], the model's input is \[8,7,2\] \(the 8x7x2 image\)/,
      ],
      [
        steps({ shape, steps: [{ kind: "subtractMean", mean: new Float32Array(111) }] }),
        /step 0 \(subtractMean\): the mean has 111 float32 values; expected 112/,
      ],
      [
        steps({ shape, steps: [{ kind: "zca", mean: new Float32Array(112), P: new Float32Array(112) }] }),
        /step 0 \(zca\): P has 112 float32 values; expected 12544/,
      ],
      [steps({ shape, steps: [{ kind: "scale", factor: NaN }] }), /step 0 \(scale\): the factor is NaN/],
      [
        steps({ shape, steps: [{ kind: "lcn", kernel: 6, sigma: 2, threshold: 0 }] }),
        /step 0 \(lcn\): kernel 6; expected an odd side 1\.\.31/,
      ],
      [steps({ shape, steps: [{ kind: "lcn", kernel: 3, sigma: -1, threshold: 0 }] }), /sigma -1; expected > 0/],
      [
        steps({
          shape,
          steps: [{ kind: "gcn", scale: 1, sqrtBias: 0, minDivisor: 1e-8, useStd: 1 as unknown as boolean }],
        }),
        /useStd is 1; expected true or false/,
      ],
      [
        steps({ shape, steps: [{ kind: "pca" } as unknown as PreprocessStep] }),
        /step 0 \(pca\): unknown step kind; expected one of scale, subtractMean, gcn, zca, lcn/,
      ],
      [
        steps({ shape, steps: new Array(17).fill({ kind: "scale", factor: 1 }) }),
        /17 preprocessing steps; the format allows at most 16/,
      ],
      [
        () => encodeBcnet(withSteps(model, ["lcn"])),
        /step 0 \(lcn\) needs an input image, but the model's input is 20 features/,
      ],
    ];
    for (const [write, message] of cases) {
      expect(write).toThrow(ShapeError);
      expect(write).toThrow(message);
    }
  });
});

/** Steps with their arrays as plain lists (for toEqual). */
function plainSteps(steps: readonly PreprocessStep[]): object[] {
  return steps.map((s) =>
    Object.fromEntries(
      Object.entries(s).map(([k, v]) => [k, ArrayBuffer.isView(v) ? Array.from(v as Float32Array) : v]),
    ),
  );
}

/** Every field and array of every layer is the same. */
function expectSameLayers(a: BcnetModel, b: BcnetModel): void {
  expect(a.layers.length).toBe(b.layers.length);
  a.layers.forEach((l, i) => {
    const m = b.layers[i];
    const plain = (x: object) =>
      Object.fromEntries(
        Object.entries(x).map(([k, v]) => [k, ArrayBuffer.isView(v) ? Array.from(v as Float32Array) : v]),
      );
    expect(plain(l), `layer ${i}`).toEqual(plain(m));
  });
}

describe("bit packing and batch-norm folding", () => {
  it("packSigns / unpackSigns: bit j of byte g of unit n is sign(W[8g+j][n]), zero maps to +1", () => {
    const inputs = 11,
      units = 3;
    const w = Float32Array.from({ length: inputs * units }, (_, i) => ((i * 7) % 5) - 2); // includes zeros
    const bits = packSigns(w, inputs, units);
    expect(bits.length).toBe(units * 2);
    const back = unpackSigns(bits, inputs, units, 0.5);
    for (let i = 0; i < w.length; i++) expect(back[i]).toBe(w[i] >= 0 ? 0.5 : -0.5);
    expect(bits[1] & 0b1111_1000).toBe(0); // padding bits past input 10
    expect(bits[0] & 1).toBe(w[0] >= 0 ? 1 : 0);
  });

  for (const variant of ["authors", "standard"] as const) {
    it(`folding the ${variant} batch norm: a s + b equals BN(H s)`, () => {
      const bn = {
        variant,
        eps: 1e-4,
        gamma: [1.5, -0.3, 2],
        beta: [0.1, 0.2, -1],
        runningMean: [3, -2, 0.5],
        runningScale: [0.7, 2, 0.01],
      };
      const H = 0.5;
      const { scale, shift } = foldBatchNorm(bn, H);
      for (const s of [-7, 0, 3.25]) {
        for (let c = 0; c < 3; c++) {
          const z = H * s;
          const r =
            variant === "authors" ? 1 / (bn.runningScale[c] + bn.eps) : 1 / Math.sqrt(bn.runningScale[c] + bn.eps);
          const want = (z - bn.runningMean[c]) * r * bn.gamma[c] + bn.beta[c];
          expect(scale[c] * s + shift[c]).toBeCloseTo(want, 4);
        }
      }
    });
  }
});
