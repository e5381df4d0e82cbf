/**
 * Deployment end to end: train small MLPs for one epoch (wasm backend), export them, and check
 * that the inference engine (binaryconnect/infer) and the exported ONNX graph (onnxruntime-node)
 * give the training engine's binary test-time outputs on all 10,000 MNIST test images.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { encode as encodePng } from "fast-png";
import * as ort from "onnxruntime-node";
import { describe, expect, it } from "vitest";
import { OptionError } from "../src/core/errors.js";
import { toOnnx } from "../src/export/onnx.js";
import { readRun, toBcnet } from "../src/export/runModel.js";
import { encodeBcnet } from "../src/format/encode.js";
import { BinaryClassifier, decodeBcnet } from "../src/infer/index.js";
import type { TrainConfig } from "../src/train/config.js";
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

/**
 * Stated tolerance of the engine's (and ONNX's) outputs against the training engine's: both sum
 * the same float32 values in different orders (observed max |difference| ~5e-6).
 */

const config = (mode: TrainConfig["mode"], variant: "authors" | "standard"): TrainConfig => ({
  preset: "test",
  dataset: "mnist",
  hidden: mode === "none" ? [32] : [256, 128],
  mode,
  H: 1,
  dropout: { input: 0, hidden: 0 },
  batchNorm: { variant, eps: 1e-4, momentum: 0.15 },
  batchSize: 100,
  epochs: 1,
  lrStart: 3e-3,
  lrEnd: 3e-3,
  seed: 11,
  testTime: mode === "det" ? { kind: "binary" } : { kind: "real" },
  evalBatchSize: 1000,
  // "train": the test images are centred with the training split's mean, the one the model file
  // stores, so raw pixels through the model file meet the same inputs as the training engine.
  meanFrom: "train",
  limit: { train: 5000, validation: 1000 },
});

const root = mkdtempSync(join(tmpdir(), "bc-deploy-"));
const deploy = deployFixture(root, { train: 5000, validation: 1000 }, config);

/** The training engine's outputs with binary test-time weights (what `eval --test-time binary` measures). */
async function trainingEngineScores(dir: string): Promise<Float32Array> {
  return bestModelScores(deploy.backend, dir, deploy.data.test.x, 784, deploy.data.test.n, 1000, "binary");
}

describe("export -> binaryconnect/infer equals the training engine's binary test-time mode", () => {
  for (const name of ["det", "stoch-standard"]) {
    it(`${name}: the same class for all 10,000 test images, scores within atol ${ATOL} + rtol ${RTOL}`, async () => {
      const model = toBcnet(await readRun(deploy.runs[name]));
      const net = await BinaryClassifier.load(encodeBcnet(model));
      expect(net.engine).toBe("wasm");
      const want = await trainingEngineScores(deploy.runs[name]);
      const fromPixels = net.predict(deploy.raw.test.images).scores; // raw 0..255 through the file's preprocessing
      const fromFeatures = net.predictFeatures(deploy.data.test.x).scores; // the training engine's own inputs
      for (const got of [fromPixels, fromFeatures]) expectScoresClose(got, want);
      let errors = 0;
      for (let m = 0; m < deploy.data.test.n; m++) if (argmax(want, m) !== deploy.data.test.y[m]) errors++;
      expect(errors / deploy.data.test.n).toBeLessThan(0.2); // a trained model, not noise
    });
  }

  it("the MNIST MLP's layout: 1 bit per weight and batch norm folded (sizes of the 784-256-128-10 file)", async () => {
    const model = toBcnet(await readRun(deploy.runs.det));
    const bytes = encodeBcnet(model);
    const bits = (784 * 256 + 256 * 128 + 128 * 10) / 8;
    expect(bytes.length).toBeGreaterThan(bits);
    expect(bytes.length).toBeLessThan(bits + 4 * (784 + 2 * (256 + 128 + 10)) + 2048);
    expect(decodeBcnet(bytes).info).toMatchObject({ mode: "det", preset: "test", epoch: 1, meanFrom: "train" });
  });

  it("refuses a model with real weights (mode none) with a clear message", async () => {
    const run = await readRun(deploy.runs.none);
    expect(() => toBcnet(run)).toThrow(OptionError);
    expect(() => toBcnet(run)).toThrow(/trained with real weights \(--mode none\)[\s\S]*hint: export it as ONNX/);
  });
});

describe("ONNX export, run by onnxruntime-node", () => {
  for (const name of ["det", "stoch-standard", "none"]) {
    it(`${name}: the same classes as ${name === "none" ? "the training engine (real weights)" : "binaryconnect/infer"} on 10,000 test images`, async () => {
      const run = await readRun(deploy.runs[name]);
      const session = await ort.InferenceSession.create(toOnnx(run));
      const pixels = Float32Array.from(deploy.raw.test.images);
      const result = await session.run({ pixels: new ort.Tensor("float32", pixels, [deploy.raw.test.n, 784]) });
      const got = result.scores.data as Float32Array;
      expect(result.scores.dims).toEqual([10_000, 10]);
      let want: Float32Array;
      if (name === "none") {
        want = await bestModelScores(
          deploy.backend,
          deploy.runs[name],
          deploy.data.test.x,
          784,
          deploy.data.test.n,
          1000,
          "real",
        );
      } else {
        want = (await BinaryClassifier.load(toBcnet(run))).predict(deploy.raw.test.images).scores;
      }
      expectScoresClose(got, want);
      await session.release();
    });
  }
});

describe("CLI: export, summary MODEL, predict", () => {
  const cli = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8" });

  it("export and predict list every option with its default; a bad format names the choices", () => {
    const help = (cmd: string) => cli(cmd, "--help").stdout.replace(/\s+/g, " ");
    expect(help("export")).toContain(
      "--format <format> bcnet (binary weights packed, batch norm folded) or onnx (standard graph, float weights +-H); default: the extension of --out, else bcnet",
    );
    expect(help("export")).toContain(
      '--which <model> best (the best validation epoch) or last (the last checkpoint) (default: "best")',
    );
    expect(help("predict")).toContain(
      '--engine <name> auto (wasm SIMD where available), wasm, or js (the plain-loop reference, for checking: far slower) (default: "auto")',
    );
    expect(help("predict")).toContain("--labels <file>");
    expect(cli("export", deploy.runs.det, "--format", "onx").stderr).toMatch(
      /expected one of bcnet, onnx, found "onx" \(did you mean "onnx"\?\)/,
    );
  });

  it("exports .bcnet and ONNX files, and summary prints the layers and sizes", () => {
    const out = join(root, "m.bcnet");
    const r = cli("export", deploy.runs.det, "--out", out);
    expect(r.stderr).toBe("");
    expect(r.stdout).toMatch(
      /wrote .*m\.bcnet: 784-256-128-10, [\d,]+ bytes \(0\.0\d\d MiB; 0\.9\d\d MiB as float32, 2\d\.\dx smaller\); trained det, epoch 1/,
    );
    expect(statSync(out).size).toBe(encodeBcnet(decodeBcnet(new Uint8Array(readFileSync(out)))).length);
    const s = cli("summary", out);
    expect(s.status).toBe(0);
    expect(s.stdout).toMatch(/\.bcnet model \(format version 1\), 784-256-128-10 MLP, 10 classes/);
    expect(s.stdout).toMatch(/dense0\s+784x256\s+200704\s+200704\s+0\.766 MiB\s+0\.024 MiB/);
    expect(s.stdout).toMatch(/bn2 \(folded, identity\)\s+2x10/);
    expect(s.stdout).toContain('"mode":"det"');
    expect(cli("summary", out, "--preset", "mnist-paper").stderr).toMatch(
      /--preset describes a preset's network, not the model file/,
    );
    const onnx = cli("export", deploy.runs.det, "--format", "onnx", "--out", join(root, "m.onnx"));
    expect(onnx.stdout).toMatch(/wrote .*m\.onnx: ONNX \(opset 13\), 784-256-128-10, binary weights as float32 \+-1/);
    const none = cli("export", deploy.runs.none);
    expect(none.status).toBe(1);
    expect(none.stderr).toMatch(/error: .*trained with real weights/);
    const bad = join(root, "bad.bcnet");
    writeFileSync(bad, readFileSync(out).subarray(0, 1000));
    expect(cli("summary", bad).stderr).toMatch(
      /error: .*bad\.bcnet: file is 1000 bytes but its header declares \d+: the file is truncated/,
    );
  });

  it("predict: PNG images give the engine's class and scores; an IDX file with labels gives the error rate", async () => {
    const model = join(root, "p.bcnet");
    expect(cli("export", deploy.runs.det, "--out", model).status).toBe(0);
    const net = await BinaryClassifier.load(new Uint8Array(readFileSync(model)));
    const want = net.predict(deploy.raw.test.images.subarray(0, 2 * 784));
    const pngs = writeDigitPngs(root, deploy.raw, 2);
    const r = cli("predict", model, ...pngs);
    expect(r.stderr).toBe("");
    const lines = r.stdout.trim().split("\n");
    lines.forEach((line, i) => {
      expect(line).toMatch(new RegExp(`^digit${i}\\.png: class ${want.labels[i]}  scores 0:-?\\d+\\.\\d{3} 1:`));
      expect(Number(/ 3:(-?[\d.]+)/.exec(line)![1])).toBeCloseTo(want.scores[i * 10 + 3], 3);
    });
    const { imgs, labs } = writeIdxTestSet(root, deploy.raw, 200);
    const all = net.predict(deploy.raw.test.images.subarray(0, 200 * 784));
    const errors = all.labels.filter((c, m) => c !== deploy.raw.test.labels[m]).length;
    const e = cli("predict", model, imgs, "--labels", labs);
    expect(e.stdout).toMatch(
      new RegExp(`^error rate ${((100 * errors) / 200).toFixed(2)}% \\(${errors} of 200 images\\)`),
    );
    const big = join(root, "big.png");
    writeFileSync(big, encodePng({ width: 32, height: 28, data: new Uint8Array(32 * 28), channels: 1, depth: 8 }));
    expect(cli("predict", model, big).stderr).toMatch(
      /big\.png: expected an image of 28 x 28, found 32 x 28[\s\S]*hint: MNIST models take 28 x 28 grayscale images/,
    );
    expect(cli("predict", model, imgs, "--labels", imgs).stderr).toMatch(/expected an IDX vector of labels/);
  });
});
