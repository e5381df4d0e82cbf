/**
 * `binaryconnect predict` and its inputs, bounded before work: labels outside the model's
 * classes, a model file past the compute bounds (refused unless --allow-large-models), a
 * FIFO passed as an input, a PNG of the wrong size (refused from its header). The CLI cases run
 * the built CLI in dist/ (`npm run build:ts`).
 */
import { execSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
import { DataFormatError } from "../src/core/errors.js";
import { readInputImages } from "../src/cli/inputs.js";
import { readLabels } from "../src/cli/predict.js";
import type { LayerEntry } from "../src/format/chain.js";
import { encodeBcnet } from "../src/format/encode.js";
import { randomImageModel, randomModel } from "./bcnet-fixtures.js";
import { CLI } from "./cli-helpers.js";

const cli = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8", timeout: 60_000 });

const dir = mkdtempSync(join(tmpdir(), "bc-predict-bounds-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function idx(dims: number[], data: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + data.length);
  out[2] = 0x08;
  out[3] = dims.length;
  dims.forEach((d, i) => {
    new DataView(out.buffer).setUint32(4 + 4 * i, d, false);
  });
  out.set(Array.from(data), 4 + 4 * dims.length);
  return out;
}

const model = join(dir, "mlp.bcnet");
writeFileSync(model, encodeBcnet(randomModel([784, 16, 10])));
const images = join(dir, "images-idx3-ubyte");
writeFileSync(images, idx([3, 28, 28], new Uint8Array(3 * 784).fill(40)));

describe("predict --labels", () => {
  it("a label outside the model's classes is an error naming the first one", async () => {
    const labels = join(dir, "bad-labels-idx1-ubyte");
    writeFileSync(labels, idx([3], [1, 255, 12]));
    const err = await readLabels(labels, 3, 10).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DataFormatError);
    expect((err as DataFormatError).message).toContain(
      `${labels}: label 255 at index 1; the model has 10 classes, so labels are 0..9`,
    );
    const good = join(dir, "labels-idx1-ubyte.gz");
    writeFileSync(good, gzipSync(idx([3], [0, 9, 4])));
    expect(Array.from(await readLabels(good, 3, 10))).toEqual([0, 9, 4]);
    await expect(readLabels(good, 3, 5)).rejects.toThrow(
      "label 9 at index 1; the model has 5 classes, so labels are 0..4",
    );
  });

  it("the CLI says so without a stack trace", () => {
    const labels = join(dir, "bad-labels-idx1-ubyte");
    const r = cli("predict", model, images, "--labels", labels);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(
      /error: .*bad-labels-idx1-ubyte: label 255 at index 1; the model has 10 classes, so labels are 0\.\.9/,
    );
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});

describe("predict and large models", () => {
  const bomb = join(dir, "bomb.bcnet");
  const entries: LayerEntry[] = Array.from(
    { length: 60 },
    (): LayerEntry => ({
      kind: "conv",
      filters: 1,
      kernel: [32, 32],
      stride: [1, 1],
      pad: [31, 31],
      pool: null,
      activation: "relu",
    }),
  );
  entries.push(
    { kind: "maxpool", window: [32, 32], stride: [32, 32] },
    { kind: "maxpool", window: [32, 32], stride: [32, 32] },
    { kind: "dense", units: 10, activation: "identity" },
  );
  writeFileSync(bomb, encodeBcnet(randomImageModel({ height: 1, width: 1, channels: 1 }, entries, 3)));

  it("a padding bomb is refused at once with the numbers and a hint; --allow-large-models is documented", () => {
    const one = join(dir, "one-idx3-ubyte");
    writeFileSync(one, idx([1, 1, 1], [7]));
    const started = performance.now();
    const r = cli("predict", bomb, one);
    expect(performance.now() - started).toBeLessThan(10_000);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(
      /error: .*bomb\.bcnet: layer \d+ \(conv .*padding 31x31\) brings the work per example to [\d.e]+ operations/,
    );
    expect(r.stderr).toContain("--allow-large-models");
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(cli("predict", "--help").stdout.replace(/\s+/g, " ")).toContain(
      "--allow-large-models load a model whose work per image passes the format's compute bounds",
    );
  });
});

describe("predict inputs", () => {
  it("a FIFO is refused at once (not read); a PNG of the wrong size is refused from its header", {
    timeout: 10_000,
  }, () => {
    const fifo = join(dir, "t10k-images-idx3-ubyte");
    execSync(`mkfifo "${fifo}"`);
    expect(() => readInputImages([fifo])).toThrow(`${fifo} is a FIFO (named pipe); expected a regular file`);
    const r = cli("predict", model, fifo);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("is a FIFO (named pipe)");
    // A PNG header claiming 100000 x 100000 (no image data): refused before decoding.
    const png = new Uint8Array(33);
    png.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]);
    new DataView(png.buffer).setUint32(16, 100_000, false);
    new DataView(png.buffer).setUint32(20, 100_000, false);
    png.set([8, 0, 0, 0, 0], 24);
    const path = join(dir, "huge.png");
    writeFileSync(path, png);
    expect(() => readInputImages([path])).toThrow("huge.png: expected an image of 28 x 28, found 100000 x 100000");
  });
});
