/**
 * Runs written before the library API (test/fixtures/v0.1-runs, see its README): today's code
 * loads their checkpoints, resumes them to the same third epoch, and trains the same three
 * epochs from scratch - bit for bit, on the reference backend.
 */
import { cpSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Backend } from "../src/backends/backend.js";
import { createBackend } from "../src/backends/index.js";
import { loadMnist, type MnistData } from "../src/data/mnist.js";
import { mnistSplits } from "../src/data/split.js";
import { loadCheckpoint } from "../src/train/checkpoint.js";
import { train, type CheckpointMeta } from "../src/train/trainer.js";
import { withoutTimings } from "./cli-helpers.js";

const FIXTURES = join(import.meta.dirname, "fixtures", "v0.1-runs");
const RUNS = ["mlp-stoch-dropout", "mlp-det", "cnn-stoch"];

describe("runs of binaryconnect 0.1.0", () => {
  let backend: Backend;
  let raw: MnistData;
  beforeAll(async () => {
    backend = await createBackend("reference");
    raw = await loadMnist();
  });
  afterAll(async () => backend.close());

  for (const name of RUNS) {
    const expected = JSON.parse(readFileSync(join(FIXTURES, name, "metrics.json"), "utf8")) as object[];
    const { config } = loadCheckpoint<CheckpointMeta>(join(FIXTURES, name, "checkpoint.bin")).meta;
    const data = () => mnistSplits(raw, { meanFrom: config.meanFrom, limit: config.limit });

    it(`${name}: its epoch-2 checkpoint resumes to the same epoch 3`, async () => {
      const dir = mkdtempSync(join(tmpdir(), "bc-compat-"));
      cpSync(join(FIXTURES, name, "checkpoint.bin"), join(dir, "checkpoint.bin"));
      const result = await train({ config, backend, data: data(), outDir: dir, resume: true });
      expect(result.records.map(withoutTimings)).toEqual(expected.slice(2));
      result.model.dispose();
    });

    it(`${name}: training from scratch gives the same three epochs`, async () => {
      const result = await train({ config, backend, data: data() });
      expect(result.records.map(withoutTimings)).toEqual(expected);
      result.model.dispose();
    });
  }
});
