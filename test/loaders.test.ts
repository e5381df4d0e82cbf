/**
 * The paper's pipelines (MNIST, CIFAR-10, SVHN) return the library's Dataset type: an example
 * shape, 10 classes and `preprocessed: true` (their values are already preprocessed; the tests
 * of their values are mnist.test.ts, test/cifar10.test.ts and test/svhn.test.ts).
 */
import { mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CIFAR10_CLASSES } from "../src/data/cifar10.js";
import { cifar10PreparedDir, cifar10Splits, loadPreparedCifar10 } from "../src/data/cifar10Prepare.js";
import { sliceDataset, type Dataset } from "../src/data/dataset.js";
import { mnistSplits } from "../src/data/split.js";
import { preprocessedSvhn } from "../src/data/svhnPrepare.js";
import { writePreparedCifar10 } from "./cifar10-fixtures.js";

const described = (d: Dataset) => [d.shape, d.classes, d.preprocessed, d.features];

describe("the paper's pipelines return Datasets", () => {
  it("mnistSplits: [28, 28, 1], 10 classes, preprocessed", () => {
    const set = (n: number) => ({
      n,
      images: Uint8Array.from({ length: n * 784 }, (_, i) => i % 251),
      labels: Uint8Array.from({ length: n }, (_, i) => i % 10),
    });
    const s = mnistSplits({ train: set(10_002), test: set(3) }, { limit: { train: 2, validation: 1 } });
    for (const d of [s.train, s.validation, s.test]) expect(described(d)).toEqual([[28, 28, 1], 10, true, 784]);
    expect(s.train.x[0]).toBeCloseTo(0 / 255 - (0 + 31) / 2 / 255, 6); // pixel 0 of images 0 and 1: 0 and 784 % 251; the train split's mean
    expect(sliceDataset(s.test, 1, 2).shape).toEqual([28, 28, 1]);
  });

  it("cifar10Splits / loadPreparedCifar10: [32, 32, 3], 10 classes with their names, preprocessed", () => {
    const cache = mkdtempSync(join(tmpdir(), "bc-loaders-")),
      dir = cifar10PreparedDir(cache);
    mkdirSync(dir, { recursive: true });
    for (const [set, n] of [
      ["train", 5],
      ["test", 2],
    ] as const)
      writePreparedCifar10(dir, set, n, (i) => i / 3072);
    const s = cifar10Splits(cache, { train: 2 }, 1);
    for (const d of [s.train, s.validation, s.test, loadPreparedCifar10(cache, "test")]) {
      expect(described(d)).toEqual([[32, 32, 3], 10, true, 3072]);
      expect(d.classNames).toEqual([...CIFAR10_CLASSES]);
    }
    expect([s.train.n, s.validation.n, s.validation.x[0], Array.from(s.validation.y)]).toEqual([2, 1, 4, [4]]);
  });

  it("svhnSplits / preprocessedSvhn: [32, 32, 3], 10 classes, preprocessed, examples computed per batch", () => {
    const n = 3,
      images = Uint8Array.from({ length: n * 3072 }, (_, i) => (i * 13) % 256),
      labels = Uint8Array.from([3, 0, 9]);
    const d = preprocessedSvhn({ images, labels, n }, 2);
    expect(described(d)).toEqual([[32, 32, 3], 10, true, 3072]);
    expect([d.n, Array.from(d.y), d.x.length]).toEqual([2, [3, 0], 0]);
    const out = new Float32Array(3072);
    d.example!(1, out, 0);
    expect(out.some((v) => v !== 0)).toBe(true);
  });
});
