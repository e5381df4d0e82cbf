/**
 * A run remembers its data: trained with --data on inverted MNIST, `eval` and `export` without
 * --data use that data and its preprocessing (not the bundled MNIST), and `train --resume`
 * continues on it - or refuses other data, naming the difference. (The built CLI in dist/.)
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { beforeAll, describe, expect, it } from "vitest";
import { defaultMnistDir, loadMnist, type MnistSet } from "../src/data/mnist.js";
import { CLI, words } from "./cli-helpers.js";

const run = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8" });
const SMALL = words("--backend wasm --threads 1 --train-size 2000 --val-size 500 --test-size 1000 --epochs 2");

/** An IDX file of unsigned bytes (magic 0x0000080N, dims big-endian), gzipped. */
function idx(dims: number[], data: Uint8Array): Uint8Array {
  const header = Buffer.alloc(4 + 4 * dims.length);
  header.writeUInt32BE(0x800 + dims.length, 0);
  dims.forEach((d, i) => {
    header.writeUInt32BE(d, 4 + 4 * i);
  });
  return gzipSync(Buffer.concat([header, data]));
}

function writeInverted(dir: string, name: "train" | "t10k", set: MnistSet): void {
  writeFileSync(
    join(dir, `${name}-images-idx3-ubyte.gz`),
    idx(
      [set.n, 28, 28],
      set.images.map((v) => 255 - v),
    ),
  );
  writeFileSync(join(dir, `${name}-labels-idx1-ubyte.gz`), idx([set.n], set.labels));
}

const errorOf = (text: string) =>
  Number(/test error ([\d.]+)%/.exec(text)?.[1] ?? /error rate ([\d.]+)%/.exec(text)?.[1]);

describe("a run trained with --data", () => {
  let root: string, inverted: string, runDir: string;
  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), "bc-own-data-"));
    inverted = join(root, "inverted");
    mkdirSync(inverted);
    const mnist = await loadMnist();
    writeInverted(inverted, "train", mnist.train);
    writeInverted(inverted, "t10k", mnist.test);
    runDir = join(root, "run");
    const r = run("train", ...SMALL, "--data", inverted, "--out", runDir);
    expect(r.status, r.stderr).toBe(0);
  }, 120_000);

  it("eval without --data measures on the run's own data: the same error as with it", () => {
    const without = run("eval", runDir, "--backend", "wasm", "--threads", "1");
    const withData = run("eval", runDir, "--backend", "wasm", "--threads", "1", "--data", inverted);
    expect(without.status, without.stderr).toBe(0);
    expect(errorOf(without.stdout)).toBe(errorOf(withData.stdout));
    expect(errorOf(without.stdout)).toBeLessThan(40);
    // on the bundled (not inverted) MNIST the model is near chance or worse, and eval says the data differs
    const other = run("eval", runDir, "--backend", "wasm", "--threads", "1", "--data", defaultMnistDir());
    expect(other.stderr).toMatch(/is not the data .* was trained on/);
    expect(errorOf(other.stdout)).toBeGreaterThan(50);
  }, 60_000);

  it("export without --data carries the run's own preprocessing: predict on raw inverted images matches eval", () => {
    const model = join(root, "model.bcnet");
    const ex = run("export", runDir, "--out", model);
    expect(ex.status, ex.stderr).toBe(0);
    const evalError = errorOf(run("eval", runDir, "--backend", "wasm", "--threads", "1").stdout);
    const p = run(
      "predict",
      model,
      join(inverted, "t10k-images-idx3-ubyte.gz"),
      "--labels",
      join(inverted, "t10k-labels-idx1-ubyte.gz"),
    );
    expect(p.status, p.stderr).toBe(0);
    // eval measures the first 1,000 test images with each split's own mean; predict all 10,000 with the training mean
    expect(Math.abs(errorOf(p.stdout) - evalError)).toBeLessThan(5);
  }, 60_000);

  it("train --resume continues on the run's own data, and refuses other data, naming the difference", () => {
    const refused = run(
      "train",
      "--resume",
      runDir,
      "--backend",
      "wasm",
      "--threads",
      "1",
      "--data",
      defaultMnistDir(),
    );
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toMatch(
      /holds a run trained on other data: the same number of examples \(2000\) but other values/,
    );
    expect(refused.stderr).toContain(inverted);
    const resumed = run("train", "--resume", runDir, "--backend", "wasm", "--threads", "1");
    expect(resumed.status, resumed.stderr).toBe(0);
    expect(resumed.stdout).toContain(`data: ${inverted}`);
  }, 60_000);

  it("a data folder that moved: resume names --data for its new place, records it, and eval then finds it", () => {
    const moved = join(root, "moved");
    renameSync(inverted, moved);
    try {
      const resume = (...more: string[]) =>
        run("train", "--resume", runDir, ...words("--backend wasm --threads 1 --epochs 4"), ...more);
      const lost = resume();
      expect(lost.status).toBe(1);
      expect(lost.stderr).toMatch(
        /the run's data folder .*inverted is not there[\s\S]*train --resume DIR --data NEWDIR/,
      );
      expect(lost.stdout).not.toContain("binaryconnect train:"); // refused before anything starts
      const unseen = run("eval", runDir, "--backend", "wasm", "--threads", "1");
      expect(unseen.status).toBe(1);
      expect(unseen.stderr).toMatch(
        /the run's data folder .*inverted is not there[\s\S]*give its new place with --data NEWDIR/,
      );
      const r = resume("--data", moved);
      expect(r.status, r.stderr).toBe(0);
      expect(JSON.parse(readFileSync(join(runDir, "config.json"), "utf8")).data.dir).toBe(moved);
      const e = run("eval", runDir, "--backend", "wasm", "--threads", "1");
      expect(e.status, e.stderr).toBe(0);
    } finally {
      renameSync(moved, inverted);
    }
  }, 60_000);
});
