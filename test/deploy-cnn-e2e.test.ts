/**
 * Deployment of convolutional networks end to end: train a tiny CNN in the paper's notation
 * for one epoch on 1,000 MNIST images (wasm backend), export it, and check that the
 * inference engine (binaryconnect/infer, wasm and js) and the exported ONNX graph
 * (onnxruntime-node) give the training engine's binary test-time outputs; then the CLI
 * (export, summary, predict on PNG and IDX inputs, also RGB for a model on 3 channels).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { encode as encodePng } from "fast-png";
import * as ort from "onnxruntime-node";
import { describe, expect, it } from "vitest";
import { toOnnx } from "../src/export/onnx.js";
import { readRun, toBcnet } from "../src/export/runModel.js";
import { encodeBcnet } from "../src/format/encode.js";
import { BinaryClassifier, decodeBcnet } from "../src/infer/index.js";
import type { TrainConfig } from "../src/train/config.js";
import { c3, randomImageModel, randomPixels } from "./bcnet-fixtures.js";
import {
  ATOL,
  RTOL,
  argmax,
  bestModelScores,
  deployFixture,
  expectScoresClose,
  writeDigitPngs,
  writeIdxTestSet,
} from "./scores.js";
import { CLI } from "./cli-helpers.js";

/** Stated tolerance of the engine's (and ONNX's) outputs against the training engine's (float32 sums in other orders). */
/**
 * A convolution without pooling, one with (conv -> pool -> BN -> ReLU), a max pool of its own
 * (after a ReLU), a hidden dense layer and the output layer: 28x28 -> 14x14 -> 7x7 -> 3x3.
 */
const ARCHITECTURE = "(2x8C3)-MP2-12C3-MP2-MP2-24FC-10";
const LIMIT = { train: 1000, validation: 200, test: 1000 };

const config = (mode: TrainConfig["mode"], variant: "authors" | "standard"): TrainConfig => ({
  preset: "test-cnn",
  dataset: "mnist",
  hidden: [],
  architecture: ARCHITECTURE,
  mode,
  H: 1,
  dropout: { input: 0, hidden: 0 },
  batchNorm: { variant, eps: 1e-4, momentum: 0.1 },
  batchSize: 20,
  epochs: 1,
  lrStart: 1e-2,
  lrEnd: 1e-2,
  seed: 7,
  testTime: mode === "det" ? { kind: "binary" } : { kind: "real" },
  evalBatchSize: 500,
  meanFrom: "train",
  limit: LIMIT, // the model file stores the training split's mean: raw pixels meet the training engine's inputs
});

const root = mkdtempSync(join(tmpdir(), "bc-deploy-cnn-"));
const deploy = deployFixture(root, LIMIT, config);
const N = LIMIT.test;
const testPixels = () => deploy.raw.test.images.subarray(0, N * 784);

/** The training engine's outputs on the test split with binary (or real) test-time weights. */
async function trainingEngineScores(dir: string, weights: "binary" | "real"): Promise<Float32Array> {
  return bestModelScores(deploy.backend, dir, deploy.data.test.x, 784, N, 250, weights);
}

describe("CNN export -> binaryconnect/infer equals the training engine's binary test-time mode", () => {
  for (const name of ["det", "stoch-standard"]) {
    it(`${name}: the same class for ${N} test images, scores within atol ${ATOL} + rtol ${RTOL} (wasm engine; js on 200)`, async () => {
      const model = toBcnet(await readRun(deploy.runs[name]));
      expect(model.image).toEqual({ height: 28, width: 28, channels: 1 });
      expect(model.layers.map((l) => l.kind)).toEqual(["conv", "conv", "conv", "maxpool", "dense", "dense"]);
      const bytes = encodeBcnet(model);
      expect(new DataView(bytes.buffer).getUint32(8, true)).toBe(2);
      const want = await trainingEngineScores(deploy.runs[name], "binary");
      const net = await BinaryClassifier.load(bytes, { engine: "wasm" });
      expect(net.engine).toBe("wasm");
      expectScoresClose(net.predict(testPixels()).scores, want, "wasm, raw pixels"); // through the file's preprocessing
      expectScoresClose(net.predictFeatures(deploy.data.test.x).scores, want, "wasm, features"); // the training engine's own inputs
      const js = await BinaryClassifier.load(bytes, { engine: "js" }); // the reference loops: slower, 200 images
      expectScoresClose(
        js.predict(testPixels().subarray(0, 200 * 784)).scores,
        want.subarray(0, 200 * 10),
        "js, raw pixels",
      );
      let errors = 0;
      for (let m = 0; m < N; m++) if (argmax(want, m) !== deploy.data.test.y[m]) errors++;
      // A trained model, not noise (chance: 0.9), after one epoch of 50 steps: det ~0.3; stoch's binary test-time weights ~0.8.
      expect(errors / N).toBeLessThan(name === "det" ? 0.5 : 0.88);
    });
  }

  it("1 bit per weight: the file's size is the bits plus the floats", async () => {
    const bytes = encodeBcnet(toBcnet(await readRun(deploy.runs.det)));
    const weights = 9 * 1 * 8 + 9 * 8 * 8 + 9 * 8 * 12 + 3 * 3 * 12 * 24 + 24 * 10;
    const floats = 784 + 2 * (8 + 8 + 12 + 24 + 10);
    expect(bytes.length).toBeGreaterThan(weights / 8 + 4 * floats);
    expect(bytes.length).toBeLessThan(weights / 8 + 4 * floats + 2048);
    expect(decodeBcnet(bytes).info).toMatchObject({ mode: "det", architecture: ARCHITECTURE, epoch: 1 });
  });
});

describe("CNN ONNX export (Conv, MaxPool, folded batch norm), run by onnxruntime-node", () => {
  for (const name of ["det", "stoch-standard", "none"]) {
    it(`${name}: the same classes and scores as ${name === "none" ? "the training engine (real weights)" : "binaryconnect/infer"} on ${N} test images`, async () => {
      const run = await readRun(deploy.runs[name]);
      const session = await ort.InferenceSession.create(toOnnx(run));
      const result = await session.run({
        pixels: new ort.Tensor("float32", Float32Array.from(testPixels()), [N, 784]),
      });
      expect(result.scores.dims).toEqual([N, 10]);
      const want =
        name === "none"
          ? await trainingEngineScores(deploy.runs[name], "real")
          : (await BinaryClassifier.load(toBcnet(run))).predict(testPixels()).scores;
      expectScoresClose(result.scores.data as Float32Array, want, "onnxruntime-node");
      await session.release();
    });
  }
});

describe("CLI on a CNN: export, summary MODEL, predict", () => {
  const cli = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8" });

  it("exports .bcnet and ONNX; summary prints the conv layers; predict gives the engine's classes for PNG and IDX inputs", async () => {
    const model = join(root, "cnn.bcnet");
    const r = cli("export", deploy.runs.det, "--out", model);
    expect(r.stderr).toBe("");
    expect(r.stdout).toMatch(
      /wrote .*cnn\.bcnet: 28x28x1-8C3-8C3-MP2-12C3-MP2-MP2-24FC-10, [\d,]+ bytes \(0\.0\d\d MiB; 0\.0\d\d MiB as float32, \d+\.\dx smaller\); trained det, epoch 1/,
    );
    const s = cli("summary", model);
    expect(s.stdout).toMatch(
      /\.bcnet model \(format version 2\), 28x28x1-8C3-8C3-MP2-12C3-MP2-MP2-24FC-10 CNN, 10 classes/,
    );
    expect(s.stdout).toMatch(/conv1\s+3x3x8x8\s+576\s+576\s+0\.002 MiB\s+0\.000 MiB/);
    expect(s.stdout).toMatch(/bn2 \(folded, after the pooling, relu\)\s+2x12/);
    expect(s.stdout).toMatch(/dense4\s+108x24/);
    const onnx = cli("export", deploy.runs.det, "--format", "onnx", "--out", join(root, "cnn.onnx"));
    expect(onnx.stdout).toMatch(
      /wrote .*cnn\.onnx: ONNX \(opset 13\), 28x28x1-\(2x8C3\)-MP2-12C3-MP2-MP2-24FC-10, binary weights as float32 \+-1/,
    );

    const net = await BinaryClassifier.load(new Uint8Array(readFileSync(model)));
    const want = net.predict(deploy.raw.test.images.subarray(0, 2 * 784));
    const pngs = writeDigitPngs(root, deploy.raw, 2);
    const p = cli("predict", model, ...pngs, "--json");
    expect(p.stderr).toBe("");
    const got = JSON.parse(p.stdout) as { predictions: { name: string; class: number; scores: number[] }[] };
    got.predictions.forEach((g, i) => {
      expect(g.class).toBe(want.labels[i]);
      expect(g.scores[3]).toBeCloseTo(want.scores[i * 10 + 3], 5);
    });
    const { imgs, labs } = writeIdxTestSet(root, deploy.raw, 200);
    const all = net.predict(deploy.raw.test.images.subarray(0, 200 * 784));
    const errors = all.labels.filter((c, m) => c !== deploy.raw.test.labels[m]).length;
    expect(cli("predict", model, imgs, "--labels", labs).stdout).toMatch(
      new RegExp(`^error rate ${((100 * errors) / 200).toFixed(2)}% \\(${errors} of 200 images\\)`),
    );
  });

  it("a model on RGB images: predict reads RGB PNGs and N x H x W x 3 IDX files; a wrong size is an error naming the model's", async () => {
    const model = randomImageModel(
      { height: 8, width: 6, channels: 3 },
      [c3(4, true), { kind: "dense", units: 5, activation: "identity" }],
      12,
    );
    const file = join(root, "rgb.bcnet");
    writeFileSync(file, encodeBcnet(model));
    const pixels = randomPixels(3, 8 * 6 * 3, 5);
    const want = (await BinaryClassifier.load(model)).predict(pixels);
    const png = join(root, "rgb.png");
    writeFileSync(png, encodePng({ width: 6, height: 8, data: pixels.subarray(0, 144), channels: 3, depth: 8 }));
    const idx = join(root, "rgb.idx");
    writeFileSync(
      idx,
      Buffer.concat([Buffer.from([0, 0, 8, 4, 0, 0, 0, 3, 0, 0, 0, 8, 0, 0, 0, 6, 0, 0, 0, 3]), pixels]),
    );
    const p = cli("predict", file, png, idx, "--json");
    expect(p.stderr).toBe("");
    const got = JSON.parse(p.stdout) as { predictions: { name: string; class: number; scores: number[] }[] };
    expect(got.predictions.map((g) => g.name)).toEqual(["rgb.png", "rgb.idx[0]", "rgb.idx[1]", "rgb.idx[2]"]);
    [0, 0, 1, 2].forEach((m, i) => {
      expect(got.predictions[i].class).toBe(want.labels[m]);
      expect(got.predictions[i].scores[1]).toBeCloseTo(want.scores[m * 5 + 1], 5);
    });
    const small = join(root, "small.png");
    writeFileSync(small, encodePng({ width: 28, height: 28, data: new Uint8Array(784), channels: 1, depth: 8 }));
    expect(cli("predict", file, small).stderr).toMatch(
      /small\.png: expected an image of 6 x 8, found 28 x 28[\s\S]*hint: this model takes 6 x 8 images \(width x height\) with 3 channel\(s\)/,
    );
    const gray = join(root, "gray.idx");
    writeFileSync(gray, Buffer.from([0, 0, 8, 3, 0, 0, 0, 1, 0, 0, 0, 8, 0, 0, 0, 6, ...new Uint8Array(48)]));
    expect(cli("predict", file, gray).stderr).toMatch(
      /gray\.idx: expected IDX images of shape N x 8 x 6 x 3 \(or 8 x 6 x 3\), found 1 x 8 x 6/,
    );
  });
});
