import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { c3, randomImageModel, randomModel, randomPixels, withSteps } from "./bcnet-fixtures.js";
import { fromArrays } from "../src/data/dataset.js";
import {
  applyPreprocessing,
  fitPreprocessing,
  preprocess as step,
  type PreprocessSpec,
} from "../src/data/preprocessing.js";
import type { BcnetModel } from "../src/format/bcnet.js";
import { decodeBcnet } from "../src/format/decode.js";
import type { LayerEntry } from "../src/format/chain.js";
import type { ImageShape } from "../src/format/shapes.js";
import { worstExcess } from "./backends.js";
import { DataFormatError, ShapeError } from "../src/core/errors.js";
import { encodeBcnet } from "../src/format/encode.js";
import { BinaryClassifier } from "../src/infer/classifier.js";
import { forwardReference, preprocess } from "../src/infer/reference.js";

describe("BinaryClassifier (wasm lookup-table engine) against the reference loops", () => {
  // Sizes that exercise every edge: inputs not a multiple of 8 (or of 4 groups, or past one
  // chunk of 32 groups), units not a multiple of 4 or 8; batches of full 8-row blocks, of
  // leftover rows through the one-row kernel (1..3) or a padded block (4..15), and of several
  // chunks of 256 rows.
  const cases: [number[], number][] = [
    [[784, 64, 32, 10], 1],
    [[784, 64, 32, 10], 3],
    [[784, 64, 32, 10], 7],
    [[784, 64, 32, 10], 16],
    [[784, 40, 10], 18],
    [[13, 9, 5, 3], 5],
    [[8, 1], 4],
    [[100, 200, 10], 300],
    [[300, 7, 3], 9],
    [[3, 2], 1],
    [[3, 2], 2],
  ];
  for (const [sizes, count] of cases) {
    it(`${sizes.join("-")}, ${count} example(s): scores within atol 1e-4 + rtol 1e-4 of float64 sums`, async () => {
      const model = randomModel(sizes, sizes.length * 31 + count);
      const raw = randomPixels(count, sizes[0], count);
      const wasm = await BinaryClassifier.load(encodeBcnet(model), { engine: "wasm" });
      expect(wasm.engine).toBe("wasm");
      const got = wasm.predict(raw);
      const want = forwardReference(model, preprocess(model, raw, count), count);
      const { excess, index } = worstExcess(got.scores, want, 1e-4, 1e-4);
      expect(excess, `worst at ${index}: ${got.scores[index]} vs ${want[index]}`).toBeLessThanOrEqual(0);
      const js = await BinaryClassifier.load(model, { engine: "js" });
      expect(Array.from(js.predict(raw).scores)).toEqual(Array.from(want));
      expect(got.labels.length).toBe(count);
    });
  }

  // Networks on images: conv 3x3 pad 1 with and without 2x2 pooling (the paper's), other
  // kernels, strides and paddings, a max-pool layer of its own, dense layers after them;
  // channels 1, 2 and 3 (patches of 9, 18, 27 inputs: not multiples of 8), odd filter counts
  // and both table kernels (fewer than 192 filters: 4-input tables), output positions not a
  // multiple of 16, a batch larger than one pass (the engine's chunk of images).
  const dense = (units: number, activation: "relu" | "identity" = "identity"): LayerEntry => ({
    kind: "dense",
    units,
    activation,
  });
  const convCases: [string, ImageShape, LayerEntry[], number][] = [
    [
      "28x28x1-8C3-MP2-16C3-MP2-32FC-10",
      { height: 28, width: 28, channels: 1 },
      [c3(8, true), c3(16, true), dense(32, "relu"), dense(10)],
      5,
    ],
    [
      "32x32x3-(2x8C3)-MP2-12C3-MP2-10",
      { height: 32, width: 32, channels: 3 },
      [c3(8), c3(8, true), c3(12, true), dense(10)],
      3,
    ],
    [
      "9x7x3-5C3-stride2-pad0-maxpool-10, 1 row",
      { height: 9, width: 7, channels: 3 },
      [{ ...c3(5), stride: [2, 2], pad: [0, 0] }, { kind: "maxpool", window: [2, 2], stride: [1, 1] }, dense(10)],
      1,
    ],
    [
      "6x6x2-3C5x3 (kernel 5x3, pad 2x1, pool 3x3 stride 2)-4",
      { height: 6, width: 6, channels: 2 },
      [{ ...c3(3), kernel: [5, 3], pad: [2, 1], pool: { window: [3, 3], stride: [2, 2] } }, dense(4)],
      19,
    ],
    [
      "3x4x2-200C3-10 (>= 192 filters: tables of 8 inputs)",
      { height: 3, width: 4, channels: 2 },
      [c3(200), dense(10)],
      2,
    ],
    [
      "4x4x2-40C3-MP2-3, 600 examples (several passes)",
      { height: 4, width: 4, channels: 2 },
      [c3(40, true), dense(9, "relu"), dense(3)],
      600,
    ],
  ];
  // Convolutions of every shape through the unfolded lookup tables (conv2dLut): odd heights and
  // widths (output rows not a multiple of the 16-position blocks), paddings 0, 1 and 2 (wider
  // than the kernel's half), kernels 1x1, 5x3, 3x3, odd filter counts (a single unit after the
  // pairs), 8, 16, 24, 40 channels, pooling fused and not, a stride-2 layer among them, several
  // images, 200 filters (the 8-input tables).
  convCases.push(
    ["10x9x8-5C3-MP2-3", { height: 10, width: 9, channels: 8 }, [c3(5, true), dense(3)], 3],
    [
      "7x5x16-9C5x3 (pad 2x1)-1x1 conv 7 (pad 0)-4",
      { height: 7, width: 5, channels: 16 },
      [{ ...c3(9), kernel: [5, 3], pad: [2, 1] }, { ...c3(8), kernel: [1, 1], pad: [0, 0] }, dense(4)],
      4,
    ],
    [
      "5x6x24-7C3 (pad 2)-MP(3x3 stride 2)-6",
      { height: 5, width: 6, channels: 24 },
      [{ ...c3(7), pad: [2, 2], pool: { window: [3, 3], stride: [2, 2] } }, dense(6)],
      2,
    ],
    ["6x11x8-3C3 (pad 0)-5", { height: 6, width: 11, channels: 8 }, [{ ...c3(3), pad: [0, 0] }, dense(5)], 5],
    [
      "9x9x8-16C3 stride 2-40C3-MP2-5",
      { height: 9, width: 9, channels: 8 },
      [{ ...c3(16), stride: [2, 2] }, c3(40), c3(13, true), dense(5)],
      3,
    ],
    [
      "16x16x3-(2x8C3)-MP2-16C3-MP2-10, 21 images",
      { height: 16, width: 16, channels: 3 },
      [c3(8), c3(8, true), c3(16, true), dense(10)],
      21,
    ],
    ["3x3x8-200C3-10 (>= 192 filters)", { height: 3, width: 3, channels: 8 }, [c3(200), dense(10)], 2],
    // the tables built once per input row (conv2dTaps): blocks of 1, 2 and 4 rows, 2 blocks a row
    [
      "32x32x8-8C3-MP2-16C3-MP2-24C3-MP2-12C3-5 (conv2dTaps on every layer)",
      { height: 32, width: 32, channels: 8 },
      [c3(8, true), c3(16, true), c3(24, true), c3(12), dense(5)],
      3,
    ],
  );
  for (const [name, image, entries, count] of convCases) {
    it(`${name}, ${count} example(s): scores within atol 1e-4 + rtol 1e-4 of the reference loops`, async () => {
      const model = randomImageModel(image, entries, count + entries.length);
      const raw = randomPixels(count, model.inputs, count + 7);
      const wasm = await BinaryClassifier.load(encodeBcnet(model), { engine: "wasm" });
      const got = wasm.predict(raw);
      const want = forwardReference(model, preprocess(model, raw, count), count);
      const { excess, index } = worstExcess(got.scores, want, 1e-4, 1e-4);
      expect(excess, `worst at ${index}: ${got.scores[index]} vs ${want[index]}`).toBeLessThanOrEqual(0);
      expect(Array.from(new Set(want)).length, "the scores vary (not all clipped by ReLU)").toBeGreaterThan(count);
      const js = await BinaryClassifier.load(model, { engine: "js" });
      expect(Array.from(js.predict(raw).scores)).toEqual(Array.from(want));
      expect(Array.from(wasm.predictFeatures(preprocess(model, raw, count)).labels)).toEqual(Array.from(got.labels));
      // the last image alone (batch 1: the dense layers' one-row kernel)
      const one = wasm.predict(raw.subarray(model.inputs * (count - 1)), 1);
      const last = worstExcess(one.scores, want.subarray(got.classes * (count - 1)), 1e-4, 1e-4);
      expect(last.excess).toBeLessThanOrEqual(0);
    });
  }

  it("a convolution with all weights +1 and no pooling sums each 3x3 neighbourhood (zero padding): the formula by hand", async () => {
    const image = { height: 3, width: 4, channels: 1 };
    const model = randomImageModel(image, [{ ...c3(1), activation: "identity" }, dense(1)], 3);
    const [conv, out] = model.layers;
    if (conv.kind !== "conv" || out.kind !== "dense") throw new Error("fixture");
    conv.bits.fill(0xff);
    conv.bits[1] &= 1; // bits past the 9 weights are 0
    conv.scale[0] = 1;
    conv.shift[0] = 0;
    out.bits.fill(0);
    out.bits[0] = 0b0000_0001; // output = x0 - x1 - ... - x11 (12 inputs)
    out.bits[1] = 0;
    out.scale[0] = 1;
    out.shift[0] = 0;
    const x = Float32Array.from({ length: 12 }, (_, i) => i + 1); // features, already preprocessed
    const sums = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12].map((_, p) => {
      const i = Math.floor(p / 4),
        j = p % 4;
      let s = 0;
      for (let di = -1; di <= 1; di++)
        for (let dj = -1; dj <= 1; dj++)
          if (i + di >= 0 && i + di < 3 && j + dj >= 0 && j + dj < 4) s += x[(i + di) * 4 + j + dj];
      return s;
    });
    const want = sums[0] - sums.slice(1).reduce((a, b) => a + b, 0);
    for (const engine of ["wasm", "js"] as const) {
      const net = await BinaryClassifier.load(model, { engine });
      expect(net.predictFeatures(x).scores[0], engine).toBe(want);
    }
  });

  it("predictFeatures takes preprocessed rows; predict(raw) equals predictFeatures(preprocess(raw))", async () => {
    const model = randomModel([784, 32, 10], 5);
    const net = await BinaryClassifier.load(model);
    const raw = randomPixels(9, 784, 3);
    const a = net.predict(raw),
      b = net.predictFeatures(preprocess(model, raw, 9));
    expect(Array.from(a.labels)).toEqual(Array.from(b.labels));
    expect(worstExcess(a.scores, b.scores, 1e-5, 1e-5).excess).toBeLessThanOrEqual(0);
    // 8-bit inputs are preprocessed in wasm, others on the host: the same f64 arithmetic.
    expect(Array.from(net.predict(Array.from(raw)).scores)).toEqual(Array.from(a.scores));
    expect(Array.from(net.predict(Float32Array.from(raw)).scores)).toEqual(Array.from(a.scores));
  });

  it("refuses a path for bytes, a bad count, text for inputs, and inputs that are not finite (both engines)", async () => {
    await expect(BinaryClassifier.load("model.bcnet" as never)).rejects.toThrow(
      /expected the model file's bytes .* found the string "model\.bcnet"\n {2}hint: read the file first/,
    );
    for (const engine of ["js", "wasm"] as const) {
      const net = await BinaryClassifier.load(randomModel([16, 8, 4], 9), { engine });
      const x = Float32Array.from(randomPixels(3, 16, 4));
      for (const count of [-1, 1.5])
        expect(() => net.predict(x, count)).toThrow(new RegExp(`count must be an integer >= 0 .*found ${count}`));
      expect(() => net.predict("hello" as never)).toThrow(/expected the inputs as a typed array .*found a string/);
      const bad = x.slice();
      bad[21] = Number.NaN;
      expect(() => net.predict(bad)).toThrow(DataFormatError);
      expect(() => net.predict(bad)).toThrow("input value 21 is NaN; expected finite numbers");
      bad[21] = 0;
      bad[40] = Number.NEGATIVE_INFINITY;
      expect(() => net.predictFeatures(bad)).toThrow("input value 40 is -Infinity");
      expect(net.predict(x).count).toBe(3);
    }
  });

  it("labels are the first maximum of the scores; a wrong input size is a ShapeError", async () => {
    const net = await BinaryClassifier.load(randomModel([16, 8, 4], 9));
    const p = net.predict(randomPixels(50, 16, 4));
    for (let m = 0; m < p.count; m++) {
      const row = Array.from(p.scores.subarray(m * 4, m * 4 + 4));
      expect(p.labels[m]).toBe(row.indexOf(Math.max(...row)));
    }
    expect(() => net.predict(new Uint8Array(17))).toThrow(ShapeError);
    expect(() => net.predict(new Uint8Array(16), 2)).toThrow(/expected 2 x 16 = 32 input values, found 16/);
    expect(() => net.predict(new Uint8Array(20))).toThrow(
      /expected a multiple of 16 input values \(16 per example\), found 20/,
    );
    await expect(BinaryClassifier.load(randomModel([16, 8, 4], 9), { engine: "gpu" as never })).rejects.toThrow(
      /engine "gpu"; expected auto, wasm or js\n {2}hint: leave engine out/,
    );
    const cnn = await BinaryClassifier.load(randomImageModel({ height: 4, width: 4, channels: 3 }, [c3(2), dense(2)]));
    expect(() => cnn.predict(new Uint8Array(47))).toThrow(
      /hint: each example is a 4x4x3 image \(height x width x channels\), 48 values, NHWC order/,
    );
    const model = randomModel([16, 8, 4], 9);
    const broken = { ...model, layers: [model.layers[1]] };
    await expect(BinaryClassifier.load(broken)).rejects.toThrow(
      /BinaryClassifier.load: layer 0 has 8 inputs but the previous layer gives 16/,
    );
  });
});

describe("BinaryClassifier applies the model's preprocessing (any steps, format version 3)", () => {
  const image = { height: 8, width: 8, channels: 3 },
    F = 192;
  const network = randomImageModel(
    image,
    [c3(4, true), { kind: "dense", units: 6, activation: "relu" }, { kind: "dense", units: 5, activation: "identity" }],
    21,
  );
  /** Smooth random images (neighbouring pixels correlated, as photos), 0..255 integers. */
  const images = (n: number, seed: number) => {
    const noise = randomPixels(n, F, seed),
      out = new Uint8Array(n * F);
    for (let m = 0; m < n; m++)
      for (let y = 0; y < 8; y++)
        for (let x = 0; x < 8; x++)
          for (let c = 0; c < 3; c++) {
            const at = (yy: number, xx: number) => noise[m * F + ((Math.min(yy, 7) * 8 + Math.min(xx, 7)) * 3 + c)];
            out[m * F + (y * 8 + x) * 3 + c] = Math.round(
              (at(y, x) + at(y + 1, x) + at(y, x + 1) + at(y + 1, x + 1)) / 4,
            );
          }
    return out;
  };
  const fitted = async (specs: PreprocessSpec[]): Promise<BcnetModel> => {
    const train = images(400, 31);
    const data = fromArrays({ x: Float32Array.from(train), y: new Float32Array(400), shape: [8, 8, 3], classes: 5 });
    return { ...network, preprocessing: await fitPreprocessing(specs, data) };
  };
  const pipelines: [string, PreprocessSpec[], number][] = [
    ["GCN (scale 55) + ZCA (CIFAR-10's)", [step.gcn({ scale: 55 }), step.zca()], 7],
    ["GCN + LCN 7x7 (SVHN's)", [step.gcn(), step.lcn()], 300], // 300 rows: more than one chunk of 256
    [
      "scale, subtractMean, GCN (useStd, sqrtBias), LCN 3x3",
      [
        step.scale(1 / 255),
        step.subtractMean(),
        step.gcn({ useStd: true, sqrtBias: 0.1 }),
        step.lcn({ kernel: 3, sigma: 1 }),
      ],
      1,
    ],
  ];
  for (const [name, specs, count] of pipelines) {
    it(`${name}, ${count} image(s): predict(raw pixels) equals applyPreprocessing then the layers (js exactly, wasm within atol 1e-4 + rtol 1e-4)`, async () => {
      const model = await fitted(specs);
      const raw = images(count, 40 + count);
      const features = await applyPreprocessing(model.preprocessing, Float32Array.from(raw), count);
      const want = forwardReference(model, features, count);
      const bytes = encodeBcnet(model);
      expect(new DataView(bytes.buffer).getUint32(8, true)).toBe(3);
      for (const source of [model, bytes]) {
        const js = await BinaryClassifier.load(source, { engine: "js" });
        expect(Array.from(js.predict(raw).scores)).toEqual(Array.from(want));
        const wasm = await BinaryClassifier.load(source, { engine: "wasm" });
        const got = wasm.predict(raw);
        const { excess, index } = worstExcess(got.scores, want, 1e-4, 1e-4);
        expect(excess, `worst at ${index}: ${got.scores[index]} vs ${want[index]}`).toBeLessThanOrEqual(0);
        expect(Array.from(wasm.predictFeatures(features).scores)).toEqual(Array.from(got.scores));
      }
      expect(Array.from(preprocess(model, raw, count))).toEqual(Array.from(features));
      // The steps matter: the raw pixels as features, or the scale-and-mean alone, give other scores.
      const ignored = forwardReference(model, Float32Array.from(raw), count);
      expect(worstExcess(ignored, want, 1e-3, 1e-3).excess).toBeGreaterThan(0);
      expect(Array.from(new Set(want)).length, "the scores vary").toBeGreaterThan(count);
    });
  }

  it("steps that are x * inputScale - mean ([], [scale], [subtractMean], [scale, subtractMean]) take the engines' fused path: within 1 ulp-ish of the steps", async () => {
    for (const kinds of [[], ["scale"], ["subtractMean"], ["scale", "subtractMean"]] as const) {
      const model = withSteps(network, kinds, 9);
      const raw = images(20, 3);
      const want = forwardReference(
        model,
        await applyPreprocessing(model.preprocessing, Float32Array.from(raw), 20),
        20,
      );
      for (const engine of ["js", "wasm"] as const) {
        const got = (await BinaryClassifier.load(encodeBcnet(model), { engine })).predict(raw).scores;
        const { excess, index } = worstExcess(got, want, 1e-4, 1e-4);
        expect(excess, `[${kinds}] ${engine}: worst at ${index}: ${got[index]} vs ${want[index]}`).toBeLessThanOrEqual(
          0,
        );
      }
    }
  });

  it("a version 1 or 2 file predicts as before: x' = x * inputScale - mean in float64, rounded once, then the layers", async () => {
    const demo = decodeBcnet(new Uint8Array(readFileSync(new URL("../demo/public/mnist-mlp.bcnet", import.meta.url))));
    const cnn = decodeBcnet(
      encodeBcnet(randomImageModel(image, [c3(4, true), { kind: "dense", units: 5, activation: "identity" }], 5)),
    );
    for (const model of [demo, cnn]) {
      const [scale, mean] = model.preprocessing.steps;
      if (scale.kind !== "scale" || mean.kind !== "subtractMean")
        throw new Error("fixture: versions 1 and 2 read as [scale, subtractMean]");
      const raw = randomPixels(17, model.inputs, 8);
      const x = Float32Array.from(raw, (v, i) => v * scale.factor - mean.mean[i % model.inputs]);
      const want = forwardReference(model, x, 17);
      expect(Array.from((await BinaryClassifier.load(model, { engine: "js" })).predict(raw).scores)).toEqual(
        Array.from(want),
      );
      const wasm = (await BinaryClassifier.load(model, { engine: "wasm" })).predict(raw).scores;
      expect(worstExcess(wasm, want, 1e-4, 1e-4).excess).toBeLessThanOrEqual(0);
    }
  });
});
