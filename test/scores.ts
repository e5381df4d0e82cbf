/**
 * Comparing two engines' class scores (rows of 10), as the deploy tests do: elementwise
 * |got - want| <= ATOL + RTOL |want|, and the same argmax on every row. Also the setting those
 * tests share (the backend, MNIST, the runs they train) and the MNIST input files they give `predict`.
 */
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { encode as encodePng } from "fast-png";
import { afterAll, beforeAll, expect } from "vitest";
import type { Backend } from "../src/backends/backend.js";
import { createBackend } from "../src/backends/index.js";
import { loadMnist, type MnistData } from "../src/data/mnist.js";
import { mnistSplits, type SplitLimit } from "../src/data/split.js";
import type { WeightMode } from "../src/nn/layer.js";
import type { Sequential } from "../src/nn/sequential.js";
import { loadCheckpoint } from "../src/train/checkpoint.js";
import type { TrainConfig } from "../src/train/config.js";
import { createModel } from "../src/train/model.js";
import { writeModelState } from "../src/train/modelState.js";
import { BEST_FILE, train, type CheckpointMeta, type Splits } from "../src/train/trainer.js";

export const ATOL = 1e-4,
  RTOL = 1e-4;
const CLASSES = 10;

/** The class of row `m`: the first maximum. */
export function argmax(scores: Float32Array, m: number): number {
  let best = 0;
  for (let k = 1; k < CLASSES; k++) if (scores[m * CLASSES + k] > scores[m * CLASSES + best]) best = k;
  return best;
}

/** Largest |a - b| - (ATOL + RTOL |b|) (<= 0: within tolerance), the largest |a - b|, and how many rows' argmax differ. */
export function compareScores(
  got: Float32Array,
  want: Float32Array,
): { excess: number; maxAbs: number; classDiffs: number } {
  let excess = -Infinity,
    maxAbs = 0,
    classDiffs = 0;
  for (let i = 0; i < want.length; i++) {
    const d = Math.abs(got[i] - want[i]);
    excess = Math.max(excess, Number.isNaN(d) ? Infinity : d - (ATOL + RTOL * Math.abs(want[i])));
    maxAbs = Math.max(maxAbs, d);
  }
  for (let m = 0; m < want.length / CLASSES; m++) if (argmax(got, m) !== argmax(want, m)) classDiffs++;
  return { excess, maxAbs, classDiffs };
}

/** What to score: the first `n` rows of `x` (features per row: `features`), `batch` rows a pass, with these test-time weights. */
type ScoredRows = [x: Float32Array, features: number, n: number, batch: number, weights: WeightMode];

/** The training engine's scores for the first `n` rows of `x` with the model of a run folder's best.bin (MLP or CNN, as it was trained). */
export async function bestModelScores(backend: Backend, dir: string, ...rows: ScoredRows): Promise<Float32Array> {
  const [, features] = rows;
  const path = join(dir, BEST_FILE);
  const ckpt = loadCheckpoint<CheckpointMeta>(path);
  const model = createModel(backend, ckpt.meta.config, features);
  try {
    writeModelState(model, ckpt.tensors, false, path);
    return await engineScores(backend, model, ...rows);
  } finally {
    model.dispose();
  }
}

/** The training engine's scores for the first `n` rows of `x` (features per row: `features`), `batch` rows a pass. */
export async function engineScores(
  backend: Backend,
  model: Sequential,
  ...[x, features, n, batch, weights]: ScoredRows
): Promise<Float32Array> {
  const out = new Float32Array(n * CLASSES);
  for (let s = 0; s < n; s += batch) {
    const t = backend.alloc([batch, features]);
    backend.upload(t, x.subarray(s * features, (s + batch) * features));
    out.set(await backend.read(model.forward(t, weights)), s * CLASSES);
    backend.dispose(t);
  }
  return out;
}

/** The deploy tests' setting: a wasm backend (2 threads), MNIST (raw, and split with the training split's mean) and the runs of trainDeployRuns. */
export interface DeployFixture {
  backend: Backend;
  raw: MnistData;
  data: Splits;
  runs: Record<string, string>;
}

/**
 * The deploy fixture, filled in before the file's tests (MNIST split with `limit`, the runs trained
 * by `config` into `root`/NAME); after them the backend is closed and `root` removed.
 */
export function deployFixture(
  root: string,
  limit: SplitLimit,
  config: (mode: TrainConfig["mode"], variant: "authors" | "standard") => TrainConfig,
): DeployFixture {
  const f = {} as DeployFixture;
  beforeAll(async () => {
    f.backend = await createBackend("wasm", { threads: 2 });
    f.raw = await loadMnist();
    f.data = mnistSplits(f.raw, { meanFrom: "train", limit });
    f.runs = await trainDeployRuns(f.backend, f.data, root, config);
  });
  afterAll(async () => {
    await f.backend?.close();
    rmSync(root, { recursive: true, force: true });
  });
  return f;
}

/** Asserts the same class on every row and every score within ATOL + RTOL |want| (`what` heads the failure message). */
export function expectScoresClose(got: Float32Array, want: Float32Array, what?: string): void {
  const c = compareScores(got, want);
  const message = `${what ? `${what}: ` : ""}max |diff| ${c.maxAbs}`;
  expect(c.classDiffs, message).toBe(0);
  expect(c.excess, message).toBeLessThanOrEqual(0);
}

/** Trains the deploy tests' runs into `root`/NAME: det (authors' batch norm), stoch-standard and none (real weights); their folders by name. */
export async function trainDeployRuns(
  backend: Backend,
  data: Splits,
  root: string,
  config: (mode: TrainConfig["mode"], variant: "authors" | "standard") => TrainConfig,
): Promise<Record<string, string>> {
  const runs: Record<string, string> = {};
  for (const [name, mode, variant] of [
    ["det", "det", "authors"],
    ["stoch-standard", "stoch", "standard"],
    ["none", "none", "authors"],
  ] as const) {
    runs[name] = join(root, name);
    const result = await train({ config: config(mode, variant), backend, data, outDir: runs[name] });
    result.model.dispose();
  }
  return runs;
}

/** Writes the first `count` MNIST test images as `dir`/digit{i}.png (28x28 grayscale); their paths. */
export function writeDigitPngs(dir: string, raw: MnistData, count: number): string[] {
  return Array.from({ length: count }, (_, i) => {
    const file = join(dir, `digit${i}.png`);
    writeFileSync(
      file,
      encodePng({
        width: 28,
        height: 28,
        data: raw.test.images.subarray(i * 784, (i + 1) * 784),
        channels: 1,
        depth: 8,
      }),
    );
    return file;
  });
}

/** Writes the first `n` (< 256) MNIST test images and labels as the IDX files `dir`/imgs.idx and `dir`/labs.idx; their paths. */
export function writeIdxTestSet(dir: string, raw: MnistData, n: number): { imgs: string; labs: string } {
  const imgs = join(dir, "imgs.idx"),
    labs = join(dir, "labs.idx");
  writeFileSync(
    imgs,
    Buffer.concat([
      Buffer.from([0, 0, 8, 3, 0, 0, 0, n, 0, 0, 0, 28, 0, 0, 0, 28]),
      raw.test.images.subarray(0, n * 784),
    ]),
  );
  writeFileSync(labs, Buffer.concat([Buffer.from([0, 0, 8, 1, 0, 0, 0, n]), raw.test.labels.subarray(0, n)]));
  return { imgs, labs };
}
