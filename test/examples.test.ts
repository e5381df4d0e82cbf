/**
 * The programs of examples/ as a user runs them: `node examples/NAME.mjs` with small sizes, in a
 * child process, importing "binaryconnect" through the package's own exports (the built dist/,
 * which `npm test` builds first). Checks what each prints (errors far from chance, an exact
 * resume) and the files it writes.
 */
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";

const ROOT = new URL("..", import.meta.url).pathname;
const tmp = () => mkdtempSync(join(tmpdir(), "bc-examples-"));

/** Runs an example; resolves with its standard output (rejects with its output on a non-zero exit). */
async function example(name: string, env: Record<string, string>, args: string[] = []): Promise<string> {
  const { stdout } = await promisify(execFile)(process.execPath, [join(ROOT, "examples", name), ...args], {
    cwd: ROOT,
    env: { ...process.env, BACKEND: "wasm", ...env },
    maxBuffer: 16 << 20,
  });
  return stdout;
}

/** An MNIST example's sizes, as its environment variables: training images, test images, epochs. */
function mnistSizes(train: number, test: number, epochs: number): Record<string, string> {
  return { TRAIN_IMAGES: String(train), TEST_IMAGES: String(test), EPOCHS: String(epochs) };
}

/** The number before " %" after `label` in the output, e.g. percent(out, "test error"). */
function percent(out: string, label: string): number {
  const m = new RegExp(`${label} (\\d+\\.\\d+) %`).exec(out);
  if (!m) throw new Error(`no "${label} N %" in the output:\n${out}`);
  return Number(m[1]);
}

beforeAll(() => {
  if (!existsSync(join(ROOT, "dist/src/index.js")))
    throw new Error("dist/ is not built: run npm run build (npm test does) before these tests");
});

describe("examples/", () => {
  it("mnist-mlp.mjs trains the MLP on 3,000 images to a test error far below chance (90 %) and saves it", async () => {
    const file = join(tmp(), "mlp.bcmodel");
    const out = await example("mnist-mlp.mjs", { ...mnistSizes(3000, 2000, 2), UNITS: "256", OUT: file });
    expect(out).toMatch(/compression: [\d.]+x smaller with 1-bit weights/);
    expect(out).toMatch(/epoch 2: train loss [\d.]+, validation error [\d.]+ %/);
    expect(percent(out, "test error")).toBeLessThan(25);
    expect(out).toContain(`saved ${file}`);
    expect(statSync(file).size).toBeGreaterThan(335_892 * 4); // the weights (float32) and Adam's moments
  });

  it("image-folder-cnn.mjs --synthetic writes a folder of PNG shapes and a CNN learns them (chance: 66.67 %)", async () => {
    const file = join(tmp(), "cnn.bcmodel");
    const out = await example("image-folder-cnn.mjs", {}, ["--synthetic", "--out", file]);
    expect(out).toMatch(/: 450 images of 3 classes \(disc, horizontal, vertical\), 0 other entries skipped/);
    expect(out).toMatch(/epoch 10: /);
    expect(percent(out, "test error")).toBeLessThan(35);
    expect(out).toMatch(/first test images: (\w+ -> \w+, ){4}\w+ -> \w+/);
    expect(existsSync(file)).toBe(true);
  });

  it("resume-and-fine-tune.mjs: an interrupted run resumes to an uninterrupted run's numbers and weights; the saved model trains on", async () => {
    const dir = tmp();
    const out = await example("resume-and-fine-tune.mjs", { ...mnistSizes(2000, 1000, 3), MORE: "1", RUN_DIR: dir });
    expect(out).toMatch(/1\. interrupted: stopped at step 8 of 16 of epoch 2; the folder holds epoch 1/);
    expect(out).toMatch(/2\. resumed: trained epochs 2, 3;/);
    expect(out).toContain("the same scores on the test set: yes");
    const [resumed, full] = [
      /resumed: .*validation errors (.*)\n/.exec(out)![1],
      /uninterrupted run: validation errors (.*);/.exec(out)![1],
    ];
    expect(resumed).toBe(full);
    expect(out).toMatch(/3\. .*model\.bcmodel continued: trained epochs 4;/);
    expect(percent(out, "test error")).toBeLessThan(30);
    expect(
      readFileSync(join(dir, "run", "metrics.jsonl"), "utf8")
        .trim()
        .split("\n"),
    ).toHaveLength(3);
    const [resumedFile, fullFile] = [
      readFileSync(join(dir, "run", "checkpoint.bin")),
      readFileSync(join(dir, "uninterrupted", "checkpoint.bin")),
    ];
    expect(resumedFile.equals(fullFile), "the two runs' checkpoint.bin are the same bytes").toBe(true); // (toEqual on megabytes is slow)
  });

  it("export-and-infer.mjs exports .bcnet and ONNX from memory; binaryconnect/infer classifies raw pixels as the training engine does", async () => {
    const dir = tmp();
    const out = await example("export-and-infer.mjs", { ...mnistSizes(3000, 2000, 2), UNITS: "256", OUT: dir });
    const bcnet = statSync(join(dir, "model.bcnet")).size;
    expect(bcnet).toBeLessThan(335_892 / 8 + 20_000); // 1 bit per weight, plus the folded batch norm and the mean
    expect(statSync(join(dir, "model.onnx")).size).toBeGreaterThan(334_336 * 4);
    expect(out).toContain(`model.bcnet: ${bcnet} bytes`);
    expect(percent(out, "test error")).toBeLessThan(25);
    const agree = /the same class as the training engine for (\d+) of (\d+)/.exec(out)!;
    expect(Number(agree[2])).toBe(2000);
    expect(Number(agree[1])).toBeGreaterThanOrEqual(1996);
    expect(out).toMatch(/first test image: label 7, predicted \d/);
  });
});
