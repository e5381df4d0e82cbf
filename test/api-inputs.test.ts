/**
 * What the library does with the inputs users actually pass: raw pixels as integer typed
 * arrays, plain arrays, objects that are not datasets, bad batch sizes, misspelt options,
 * values that are not finite. Each is either taken as float32 values or refused with a typed
 * error that says what was expected and what was found (never a hang, a TypeError, or a
 * silently wrong answer).
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { build } from "vite";
import { beforeAll, describe, expect, it } from "vitest";
import * as bc from "../src/index.js";
import { smallMlp } from "./toy-model.js";

/** n examples of 16 pixel values 0..255 in 3 classes (class k bright at pixels [4k, 4k + 4)). */
function pixelSet(n: number): { pixels: Uint8Array; labels: Int32Array } {
  const pixels = new Uint8Array(n * 16),
    labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    labels[i] = i % 3;
    for (let f = 0; f < 16; f++)
      pixels[i * 16 + f] = ((i * 37 + f * 11) % 90) + (Math.floor(f / 4) === labels[i] ? 160 : 0);
  }
  return { pixels, labels };
}

describe("inputs given as other arrays than Float32Array", () => {
  const { pixels, labels } = pixelSet(60);
  let model: bc.Model;
  beforeAll(async () => {
    model = smallMlp();
    const train = bc.data.fromArrays({ x: pixels, y: labels, shape: [16], classes: 3 });
    await model.fit(train, {
      epochs: 2,
      batchSize: 20,
      preprocess: [bc.preprocess.scale(1 / 255), bc.preprocess.subtractMean()],
    });
  });

  it("predicts the same scores from a Uint8Array, an Int32Array, numbers and a Float32Array of the pixels", async () => {
    const want = await model.predict(Float32Array.from(pixels));
    for (const x of [pixels, Int32Array.from(pixels), Array.from(pixels), Uint8ClampedArray.from(pixels)]) {
      const got = await model.predict(x);
      expect(Array.from(got.scores)).toEqual(Array.from(want.scores));
      expect(Array.from(got.labels)).toEqual(Array.from(want.labels));
    }
    const viaObject = await model.predict({ x: pixels, n: 60 });
    expect(Array.from(viaObject.scores)).toEqual(Array.from(want.scores));
  });

  it("evaluates a hand-made dataset object holding a Uint8Array as fromArrays' float copy", async () => {
    const made = bc.data.fromArrays({ x: pixels, y: labels, shape: [16], classes: 3 });
    const byHand = { x: pixels, y: labels, n: 60, features: 16, shape: [16], classes: 3 };
    expect(await model.evaluate(byHand as unknown as bc.Dataset)).toEqual(await model.evaluate(made));
  });

  it("applies preprocessing to integer arrays in float32", async () => {
    const p = { shape: [2], steps: [{ kind: "scale" as const, factor: 1 / 255 }] };
    const out = await bc.data.applyPreprocessing(p, Uint8Array.of(255, 128) as unknown as Float32Array, 1);
    expect(out).toBeInstanceOf(Float32Array);
    expect(out[0]).toBeCloseTo(1, 6);
    expect(out[1]).toBeCloseTo(128 / 255, 6);
  });

  it("refuses what is not examples, naming what it found", async () => {
    await expect(model.predict("pixels" as never)).rejects.toThrow(/predict: expected a Float32Array.*found a string/);
    await expect(model.predict({ pixels } as never)).rejects.toThrow(
      /predict: expected examples .*found an object with keys \{pixels\}/,
    );
    await expect(model.predict(["a", "b"] as never)).rejects.toThrow(bc.ShapeError);
    await expect(model.predict(new Float32Array(0))).rejects.toThrow(/0 values are not a whole number of examples/);
    const withNaN = Float32Array.from(pixels);
    withNaN[17] = Number.NaN;
    await expect(model.predict(withNaN)).rejects.toThrow(
      /predict: value 17 of the inputs is NaN; expected finite numbers/,
    );
    await expect(model.evaluate({ x: pixels, n: 60 } as never)).rejects.toThrow(
      /evaluate: expected a Dataset \(n, features, shape, x, y\), found an object with keys \{x, n\} without features, shape, y/,
    );
    await expect(model.fit({ x: pixels, y: labels } as never, { epochs: 3 })).rejects.toThrow(
      /fit \(training set\): expected a Dataset.*without n, features, shape/,
    );
  });
});

describe("options of evaluate, predict and fit", () => {
  const train = bc.data.fromArrays({
    x: Float32Array.from({ length: 30 * 16 }, (_, k) => Math.sin(k)),
    y: Int32Array.from({ length: 30 }, (_, i) => i % 3),
    shape: [16],
    classes: 3,
  });
  let model: bc.Model;
  beforeAll(async () => {
    model = smallMlp();
    await model.fit(train, { epochs: 1, batchSize: 10 });
  });

  it("refuses batch sizes that are not integers >= 1 instead of looping forever", async () => {
    for (const batchSize of [0, -1, 2.5, Number.NaN]) {
      await expect(model.evaluate(train, { batchSize })).rejects.toThrow(
        `evaluate: batchSize must be an integer >= 1, found ${batchSize}`,
      );
      await expect(model.predict(train, { batchSize })).rejects.toThrow(bc.OptionError);
    }
    await expect(smallMlp().fit(train, { epochs: 1, evalBatchSize: 0, validation: 0.5 })).rejects.toThrow(
      "fit: evalBatchSize: batchSize must be an integer >= 1, found 0",
    );
  });

  it("refuses misspelt options and a test-time mode predict does not have", async () => {
    await expect(model.evaluate(train, { batchsize: 3 } as never)).rejects.toThrow(
      /evaluate: unknown option "batchsize"[\s\S]*known options: testTime, batchSize/,
    );
    await expect(model.predict(train, { testtime: "real" } as never)).rejects.toThrow(/predict: unknown option/);
    await expect(model.predict(train, { testTime: "ensemble:3" } as never)).rejects.toThrow(
      /predict: testTime must be "binary" or "real", found "ensemble:3"/,
    );
    const fitHint = await smallMlp()
      .fit(train, { epoch: 2 } as never)
      .catch((e: Error) => e.message);
    expect(fitHint).toMatch(/fit: unknown option "epoch"[\s\S]*known options: epochs, batchSize/);
    expect(fitHint).not.toContain("maxEpochsThisCall");
    expect(() => bc.layers.dense({ units: 3, unit: 2 } as never)).toThrow(/known options: units, [^\n]*lrScale$/);
    const ensemble = await model.evaluate(train, { testTime: "ensemble:3" });
    expect(ensemble.error).toBeGreaterThanOrEqual(0);
  });

  it("refuses epochs fewer than a continued run has done, before training anything", async () => {
    const done = model.training!.epochsDone;
    await expect(model.fit(train, { epochs: done - 1 || 0.5 })).rejects.toThrow(bc.OptionError);
    const m = smallMlp();
    await m.fit(train, { epochs: 2, batchSize: 10 });
    await expect(m.fit(train, { epochs: 1 })).rejects.toThrow("fit: epochs 1 is fewer than the 2 this run has done");
    expect(m.training!.epochsDone).toBe(2);
  });

  it("checks the backend, threads and simd when the model is made", () => {
    expect(() => smallMlp({ backend: "cuda" as never })).toThrow(
      'model: backend must be one of reference, wasm, webgpu, auto or a Backend, found "cuda"',
    );
    expect(() => smallMlp({ threads: 0 })).toThrow("model: threads must be an integer from 1 to 64, found 0");
    expect(() => smallMlp({ simd: "fast" as never })).toThrow(bc.OptionError);
  });
});

describe("data that cannot be trained on", () => {
  it("fromArrays refuses NaN and infinite values, naming the first", () => {
    const x = new Float32Array(10 * 4);
    x[22] = Number.NaN;
    x[30] = Number.POSITIVE_INFINITY;
    const y = new Int32Array(10);
    expect(() => bc.data.fromArrays({ x, y, shape: [4] })).toThrow(
      /dataset: value 22 of x \(example 5, value 2 of it\) is NaN; expected finite numbers/,
    );
    x[22] = 0;
    expect(() => bc.data.fromArrays({ x, y, shape: [4] })).toThrow(bc.DataFormatError);
  });

  it("reports a file it cannot read as a StorageError with the path and the system's code", async () => {
    const dir = mkdtempSync(join(tmpdir(), "bc-inputs-"));
    const missing = join(dir, "missing.csv");
    const err = await bc.data.loadCsv(missing).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(bc.StorageError);
    expect((err as bc.StorageError).path).toBe(missing);
    expect((err as bc.StorageError).code).toBe("ENOENT");
    writeFileSync(join(dir, "a.csv"), "x,label\n1,0\n");
    const model = await bc.loadModel(join(dir, "none.bcmodel")).catch((e: unknown) => e);
    expect(model).toBeInstanceOf(bc.StorageError);
    expect((model as bc.StorageError).code).toBe("ENOENT");
  });
});

describe("save and load targets", () => {
  it("take a file:// URL object or string (escapes decoded), and refuse other objects", async () => {
    const model = smallMlp();
    const dir = mkdtempSync(join(tmpdir(), "bc inputs "));
    const url = pathToFileURL(join(dir, "a model.bcmodel"));
    expect(url.href).toContain("%20");
    expect(await model.save(url)).toBe(join(dir, "a model.bcmodel"));
    const back = await bc.loadModel(url.href, { backend: "reference" });
    const x = Float32Array.from({ length: 3 * 16 }, (_, k) => Math.cos(k));
    expect((await back.predict(x)).scores).toEqual((await model.predict(x)).scores);
    await expect(model.save({ path: "x" } as never)).rejects.toThrow(
      /save: expected a file path, a file:\/\/ URL, .*found an object with keys \{path\}/,
    );
    await expect(bc.loadModel(42 as never)).rejects.toThrow(bc.OptionError);
  });
});

describe("error names", () => {
  it("are the classes' names, also in a minified bundle (a bundler shortens class names)", async () => {
    const built = await build({
      configFile: false,
      logLevel: "silent",
      build: {
        write: false,
        minify: true,
        lib: { entry: resolve("src/core/errors.ts"), formats: ["es"], fileName: "errors" },
      },
    });
    const [bundle] = Array.isArray(built) ? built : [built];
    const code = (bundle as { output: { code?: string }[] }).output[0].code!;
    const minified = (await import(`data:text/javascript;base64,${Buffer.from(code).toString("base64")}`)) as Record<
      string,
      new (
        ...args: string[]
      ) => Error
    >;
    const names = Object.keys(bc).filter((k) => /Error$/.test(k) && k !== "BinaryConnectError");
    expect(names.length).toBeGreaterThanOrEqual(10);
    for (const name of names) {
      const Class = minified[name];
      expect(Class, name).toBeDefined();
      const e =
        name === "StorageError" || name === "RunInUseError" || name === "ModelFormatError"
          ? new Class("x", "y", "m", "h")
          : new Class("m", "h");
      expect(e.name).toBe(name);
    }
    expect(String(new bc.OptionError("m", "h"))).toBe("OptionError: m\n  hint: h");
  });
});
