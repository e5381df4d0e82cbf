/**
 * The ONNX export's preprocessing (src/export/onnxGraph.ts, preprocessingNodes): every step as
 * standard ops, run by onnxruntime-node, against training's own arithmetic
 * (src/data/preprocessing.ts, applyPreprocessing). Each step is checked on its own through a
 * network that passes its input through unchanged (an identity dense layer, batch norm folded
 * to scale 1 and shift 0), then whole binary CNNs with GCN + ZCA and GCN + LCN against
 * binaryconnect/infer on raw pixels.
 */
import * as ort from "onnxruntime-node";
import { describe, expect, it } from "vitest";
import { fromArrays } from "../src/data/dataset.js";
import {
  applyPreprocessing,
  fitPreprocessing,
  preprocess as step,
  type PreprocessSpec,
  type Preprocessing,
} from "../src/data/preprocessing.js";
import { encodeOnnx, type OnnxLayer } from "../src/export/onnx.js";
import type { BcnetModel } from "../src/format/bcnet.js";
import { fanIn, fanOut } from "../src/format/bcnet.js";
import type { BatchNormState } from "../src/format/fold.js";
import { unpackSigns } from "../src/format/pack.js";
import { BinaryClassifier } from "../src/infer/index.js";
import { worstExcess } from "./backends.js";
import { c3, randomImageModel, randomPixels } from "./bcnet-fixtures.js";

const H = 8,
  W = 6,
  C = 3,
  F = H * W * C; // not square: a transposed image would show

/** Runs an ONNX model on n rows of `pixels` (float32 [n, inputs]); its scores. */
async function runOnnx(bytes: Uint8Array, pixels: Float32Array, n: number): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(bytes);
  try {
    const result = await session.run({ pixels: new ort.Tensor("float32", pixels, [n, pixels.length / n]) });
    expect(result.scores.dims).toEqual([n, result.scores.data.length / n]);
    return result.scores.data as Float32Array;
  } finally {
    await session.release();
  }
}

/** A batch norm that folds to the given scale and shift exactly (authors' variant, eps 0, std 1, mean 0). */
function bnOf(scale: ArrayLike<number>, shift: ArrayLike<number>): BatchNormState {
  return {
    variant: "authors",
    eps: 0,
    gamma: scale,
    beta: shift,
    runningMean: new Float32Array(scale.length),
    runningScale: new Float32Array(scale.length).fill(1),
  };
}

/** The ONNX model of the preprocessing alone: its output is the preprocessed input (an identity dense layer after it). */
function preprocessingOnly(p: Preprocessing): Uint8Array {
  const n = p.shape.reduce((a, b) => a * b, 1);
  const identity = new Float32Array(n * n);
  for (let i = 0; i < n; i++) identity[i * n + i] = 1;
  const image = p.shape.length === 3 ? { height: p.shape[0], width: p.shape[1], channels: p.shape[2] } : undefined;
  return encodeOnnx({
    name: "preprocessing",
    preprocessing: p,
    image,
    info: { producer: "test" },
    layers: [
      {
        kind: "dense",
        inputs: n,
        units: n,
        weights: identity,
        bn: bnOf(new Float32Array(n).fill(1), new Float32Array(n)),
        relu: false,
      },
    ],
  });
}

/** The ONNX model of a .bcnet model: weights +-1, batch norm folding to its scale and shift, its preprocessing. */
function onnxOf(model: BcnetModel): Uint8Array {
  const layers = model.layers.map((l): OnnxLayer => {
    if (l.kind === "maxpool") return l;
    return {
      ...l,
      weights: unpackSigns(l.bits, fanIn(l), fanOut(l), 1),
      bn: bnOf(l.scale, l.shift),
      relu: l.activation === "relu",
    };
  });
  return encodeOnnx({ name: "test", preprocessing: model.preprocessing, image: model.image, layers, info: model.info });
}

/** Smooth random images 0..255 (neighbouring pixels alike, as photos), [n, H, W, C]. */
function images(n: number, seed: number): Float32Array {
  const noise = randomPixels(n, F, seed),
    out = new Float32Array(n * F);
  const at = (m: number, y: number, x: number, c: number) =>
    noise[m * F + (Math.min(y, H - 1) * W + Math.min(x, W - 1)) * C + c];
  for (let m = 0; m < n; m++)
    for (let y = 0; y < H; y++)
      for (let x = 0; x < W; x++)
        for (let c = 0; c < C; c++) {
          out[m * F + (y * W + x) * C + c] = Math.round(
            (at(m, y, x, c) + at(m, y + 1, x, c) + at(m, y, x + 1, c) + at(m, y + 1, x + 1, c)) / 4,
          );
        }
  return out;
}

/** Steps fitted on 300 training images. */
async function fit(specs: PreprocessSpec[]): Promise<Preprocessing> {
  return fitPreprocessing(
    specs,
    fromArrays({ x: images(300, 1), y: new Float32Array(300), shape: [H, W, C], classes: 2 }),
  );
}

describe("ONNX preprocessing, each step as standard ops (onnxruntime-node) against applyPreprocessing", () => {
  // Rows: smooth images, one constant image (GCN: divisor 0 -> 1), one nearly constant
  // (centred norm 0.25: below a minDivisor of 1, so the divisor is 1).
  const N = 12;
  const x = images(N, 5);
  x.fill(7, 0, F);
  x.fill(7, F, 2 * F);
  x[F + 5] = 7.25;
  const cases: [string, PreprocessSpec[] | Preprocessing][] = [
    ["scale", [step.scale(1 / 255)]],
    ["subtractMean", [step.subtractMean()]],
    ["gcn (scale 55, pylearn2's defaults)", [step.gcn({ scale: 55 })]],
    [
      "gcn (useStd, sqrtBias 10, minDivisor 1: the nearly constant image keeps divisor 1)",
      [step.gcn({ useStd: true, sqrtBias: 10, scale: 2 })],
    ],
    ["gcn (minDivisor 1, scale 1)", [step.gcn({ minDivisor: 1 })]],
    ["zca", [step.scale(1 / 255), step.zca()]],
    ["lcn (7x7, sigma 2)", [step.lcn()]],
    [
      "lcn (3x3, sigma 1, threshold 0.5: the threshold wins where the image is flat)",
      [step.scale(1 / 255), step.lcn({ kernel: 3, sigma: 1, threshold: 0.5 })],
    ],
    ["gcn (scale 55) + zca: CIFAR-10's", [step.gcn({ scale: 55 }), step.zca()]],
    ["gcn + lcn: SVHN's", [step.gcn(), step.lcn()]],
    ["no steps (Identity)", { shape: [H, W, C], steps: [] }],
    [
      "gcn + scale on feature vectors (shape [F])",
      {
        shape: [F],
        steps: [
          { kind: "gcn", scale: 3, sqrtBias: 0, minDivisor: 1e-8, useStd: false },
          { kind: "scale", factor: 0.5 },
        ],
      },
    ],
  ];
  for (const [name, given] of cases) {
    it(`${name}: within atol 1e-4 + rtol 1e-4`, async () => {
      const p = Array.isArray(given) ? await fit(given) : given;
      const want = await applyPreprocessing(p, x, N);
      const got = await runOnnx(preprocessingOnly(p), x, N);
      const { excess, index } = worstExcess(got, want, 1e-4, 1e-4);
      expect(excess, `worst at ${index}: ${got[index]} vs ${want[index]}`).toBeLessThanOrEqual(0);
      if (p.steps.length)
        expect(worstExcess(got, x, 1e-3, 1e-3).excess, "the step changes the input").toBeGreaterThan(0);
    });
  }

  it("the minDivisor rule is in the graph: Less and Where, and a constant image gives zeros", async () => {
    const p = await fit([step.gcn({ minDivisor: 1 })]);
    const got = await runOnnx(preprocessingOnly(p), x, N);
    expect(Array.from(got.subarray(0, F)).every((v) => v === 0)).toBe(true);
    // The nearly constant image: centred, not divided (its norm 0.25 is below minDivisor 1).
    expect(got[F + 5]).toBeCloseTo(0.25 - 0.25 / F, 5);
    const text = new TextDecoder("latin1").decode(preprocessingOnly(p));
    for (const op of ["ReduceMean", "ReduceSum", "Sqrt", "Less", "Where", "Div"]) expect(text).toContain(op);
  });
});

describe("ONNX of binary CNNs with their preprocessing take raw pixels: the same scores as binaryconnect/infer", () => {
  const network = randomImageModel(
    { height: H, width: W, channels: C },
    [
      c3(6, true),
      c3(5),
      { kind: "dense", units: 7, activation: "relu" },
      { kind: "dense", units: 4, activation: "identity" },
    ],
    13,
  );
  for (const [name, specs] of [
    ["GCN + ZCA", [step.gcn({ scale: 55 }), step.zca()]],
    ["GCN + LCN", [step.gcn(), step.lcn()]],
  ] as const) {
    it(`${name}: 50 images, scores within atol 1e-4 + rtol 1e-4, the same classes`, async () => {
      const model: BcnetModel = { ...network, preprocessing: await fit([...specs]) };
      const x = images(50, 9);
      const want = (await BinaryClassifier.load(model)).predict(x);
      const got = await runOnnx(onnxOf(model), x, 50);
      const { excess, index } = worstExcess(got, want.scores, 1e-4, 1e-4);
      expect(excess, `worst at ${index}: ${got[index]} vs ${want.scores[index]}`).toBeLessThanOrEqual(0);
      for (let m = 0; m < 50; m++) {
        const row = Array.from(got.subarray(4 * m, 4 * m + 4));
        expect(row.indexOf(Math.max(...row))).toBe(want.labels[m]);
      }
      expect(new Set(want.labels).size, "a network that tells images apart").toBeGreaterThan(1);
    });
  }
});
