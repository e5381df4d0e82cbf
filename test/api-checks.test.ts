/**
 * The library's checks of what users pass beside the data: model settings (binarization, batch
 * norm), fit's nested options (lr, preprocess, callbacks, early stopping, signal), a continued
 * run's preprocessing, values that are not finite in a dataset object, and what a saved model's
 * best epoch reads back as. Each mistake is a typed error naming what was expected and what was
 * found, at the call (not an epoch later, not a silently different run).
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import * as bc from "../src/index.js";
import { smallMlp, toySet } from "./toy-model.js";

const layers = () => [
  bc.layers.dense({ units: 8 }),
  bc.layers.batchNorm(),
  bc.layers.relu(),
  bc.layers.dense({ units: 3 }),
  bc.layers.batchNorm(),
];
const model = (extra: Record<string, unknown>) =>
  bc.sequential({ inputShape: [16], backend: "reference", layers: layers(), ...extra } as bc.SequentialOptions);

describe("sequential's model-wide settings", () => {
  it("refuses a binarize that is not det, stoch or none, and names the one a synonym means", () => {
    expect(() => model({ binarize: "stochastic" })).toThrow(bc.OptionError);
    expect(() => model({ binarize: "stochastic" })).toThrow(
      /binarize must be "det", "stoch" or "none", found "stochastic"[\s\S]*did you mean "stoch"/,
    );
    expect(() => model({ binarize: "Real" })).toThrow(/did you mean "none"/);
    expect(() => model({ binarize: 1 })).toThrow(/found 1/);
    for (const mode of ["det", "stoch", "none"]) expect(model({ binarize: mode }).network.binarization).toBe(mode);
  });

  it("refuses a batch-norm variant, eps or momentum out of range, and an unknown batch-norm option", () => {
    expect(() => model({ batchNorm: { variant: "std" } })).toThrow(
      /sequential: batchNorm: variant must be "authors" or "standard", found "std"/,
    );
    expect(() => model({ batchNorm: { epsilon: 1e-3 } })).toThrow(/unknown option "epsilon"/);
    expect(() => model({ batchNorm: { eps: -1 } })).toThrow(/eps must be a finite number >= 0, found -1/);
    expect(() => model({ batchNorm: { momentum: 2 } })).toThrow(/momentum must be a number in \[0, 1\], found 2/);
    expect(() => model({ batchNorm: "authors" })).toThrow(/batchNorm must be an object/);
    expect(model({ batchNorm: { variant: "standard", eps: 1e-5, momentum: 0.2 } }).network.batchNorm).toEqual({
      variant: "standard",
      eps: 1e-5,
      momentum: 0.2,
    });
  });

  it("refuses an inputShape that is not an array with an OptionError, not a TypeError", () => {
    expect(() => model({ inputShape: 16 })).toThrow(bc.OptionError);
    expect(() => model({ inputShape: undefined })).toThrow(/inputShape must be an array, found undefined/);
  });

  it("checks a network read from elsewhere (a file's) the same way", () => {
    const network = model({}).network;
    expect(() => new bc.Model({ ...network, binarization: "binary" } as never)).toThrow(
      /network: binarization must be .*did you mean "det"/s,
    );
    expect(() => new bc.Model({ ...network, batchNorm: { variant: "x", eps: 1e-4, momentum: 0.1 } } as never)).toThrow(
      /variant must be "authors" or "standard"/,
    );
  });
});

describe("fit's nested options", () => {
  const train = toySet(60);
  const fitWith = (opts: Record<string, unknown>) =>
    smallMlp().fit(train, { epochs: 1, batchSize: 20, ...opts } as bc.FitOptions);

  it("refuses a learning rate that is not a finite number > 0, or { start, end } with other keys", async () => {
    await expect(fitWith({ lr: "0.01" })).rejects.toThrow(/lr must be a number or \{ start, end \}, found "0.01"/);
    await expect(fitWith({ lr: { start: 1e-3, stop: 1e-5 } })).rejects.toThrow(/fit: lr: unknown option "stop"/);
    await expect(fitWith({ lr: { start: "fast" } })).rejects.toThrow(
      /learning rates must be finite numbers > 0, found start "fast"/,
    );
    await expect(fitWith({ lr: Number.POSITIVE_INFINITY })).rejects.toThrow(/found start Infinity, end Infinity/);
    const history = await fitWith({ lr: { start: 1e-3, end: 1e-5 } });
    expect(history.epochs).toHaveLength(1);
  });

  it("refuses preprocess that is not an array of bc.preprocess steps", async () => {
    await expect(fitWith({ preprocess: bc.preprocess.subtractMean() })).rejects.toThrow(
      /preprocess must be an array of steps/,
    );
    await expect(fitWith({ preprocess: ["scale"] })).rejects.toThrow(/unknown step "scale"/);
    await expect(fitWith({ preprocess: [{ kind: "whiten" }] })).rejects.toThrow(/unknown step "whiten"/);
  });

  it("refuses unknown callbacks, callbacks that are not functions, unknown early-stopping keys and a signal that is not one", async () => {
    await expect(fitWith({ callbacks: { onEpochEnds: () => {} } })).rejects.toThrow(
      /fit: callbacks: unknown option "onEpochEnds"/,
    );
    await expect(fitWith({ callbacks: { onEpochEnd: 5 } })).rejects.toThrow(
      /callbacks.onEpochEnd must be a function, found 5/,
    );
    await expect(fitWith({ validation: 0.2, earlyStopping: { patience: 2, restore_best: true } })).rejects.toThrow(
      /fit: earlyStopping: unknown option "restore_best"/,
    );
    await expect(fitWith({ signal: true })).rejects.toThrow(/signal must be an AbortSignal, found true/);
  });

  it("prints a string given for a count as a string", async () => {
    await expect(fitWith({ epochs: "2" })).rejects.toThrow(/epochs must be an integer >= 1, found "2"/);
    expect(() => bc.layers.dense({ units: "16" as never })).toThrow(/found "16"/);
  });
});

describe("a continued run's preprocessing", () => {
  const train = toySet(60);

  it("refuses other steps or settings than the run fitted, and continues with the same or none", async () => {
    const m = smallMlp();
    await m.fit(train, {
      epochs: 1,
      batchSize: 20,
      preprocess: [bc.preprocess.scale(0.5), bc.preprocess.subtractMean()],
    });
    await expect(m.fit(train, { epochs: 2, preprocess: [bc.preprocess.scale(2)] })).rejects.toThrow(
      /continues with the preprocessing fitted at its first epoch; the preprocess given differs \(given \[scale\], fitted \[scale, subtractMean\]\)/,
    );
    await expect(
      m.fit(train, { epochs: 2, preprocess: [bc.preprocess.scale(2), bc.preprocess.subtractMean()] }),
    ).rejects.toThrow(/step 1 given \{"kind":"scale","factor":2\}, fitted \{"kind":"scale","factor":0.5\}/);
    await m.fit(train, { epochs: 2, preprocess: [bc.preprocess.scale(0.5), bc.preprocess.subtractMean()] });
    await m.fit(train, { epochs: 3 });
    expect(m.training?.epochsDone).toBe(3);
  });

  it("compares a run folder's saved preprocessing, gcn's defaults filled in", async () => {
    const dir = join(mkdtempSync(join(tmpdir(), "bc-checks-")), "run");
    const opts = { epochs: 1, batchSize: 20, checkpointDir: dir };
    await smallMlp().fit(train, { ...opts, preprocess: [bc.preprocess.gcn({ scale: 2 })] });
    await expect(smallMlp().fit(train, { ...opts, epochs: 2, preprocess: [bc.preprocess.gcn()] })).rejects.toThrow(
      new RegExp(
        `the run in ${dir.replace(/[\\^$.*+?()[\]{}|]/g, "\\$&")} continues with the preprocessing fitted.*"scale":1.*"scale":2`,
      ),
    );
    const h = await smallMlp().fit(train, {
      ...opts,
      epochs: 2,
      preprocess: [bc.preprocess.gcn({ scale: 2, sqrtBias: 0 })],
    });
    expect(h.epochsDone).toBe(2);
  });
});

describe("values that are not finite in a dataset object", () => {
  it("is a DataFormatError from fit and evaluate naming the value, not a NaN loss or a NaN result", async () => {
    const good = toySet(60);
    const x = Float32Array.from(good.x);
    x[5 * 16 + 3] = Number.NaN;
    const bad = { ...good, x };
    await expect(smallMlp().fit(bad, { epochs: 1, batchSize: 20 })).rejects.toThrow(bc.DataFormatError);
    await expect(smallMlp().fit(bad, { epochs: 1, batchSize: 20 })).rejects.toThrow(
      /fit \(training set\): value 83 of x \(example 5, value 3 of it\) is NaN; expected finite numbers/,
    );
    await expect(smallMlp().fit(good, { epochs: 1, batchSize: 20, validation: bad })).rejects.toThrow(
      /fit \(validation set\): value 83/,
    );
    x[83] = Number.POSITIVE_INFINITY;
    await expect(smallMlp().evaluate(bad)).rejects.toThrow(/evaluate: value 83 of x .* is Infinity/);
  });

  it("refuses images of the right size in another shape ([C, H, W] for [H, W, C])", async () => {
    const m = bc.sequential({
      inputShape: [4, 4, 2],
      backend: "reference",
      layers: [
        bc.layers.conv2d({ filters: 2, kernelSize: 3 }),
        bc.layers.flatten(),
        bc.layers.dense({ units: 3 }),
        bc.layers.batchNorm(),
      ],
    });
    const x = new Float32Array(6 * 32).fill(0.5);
    const y = Int32Array.from({ length: 6 }, (_, i) => i % 3);
    await expect(m.evaluate(bc.data.fromArrays({ x, y, shape: [2, 4, 4] }))).rejects.toThrow(
      /examples of shape \[2,4,4\] .* the model takes \[4,4,2\]/,
    );
    expect((await m.evaluate(bc.data.fromArrays({ x, y, shape: [4, 4, 2] }))).error).toBeGreaterThanOrEqual(0);
  });

  it("fromArrays names a missing field and an unknown option", () => {
    expect(() => bc.data.fromArrays({ x: new Float32Array(4), y: [0, 1] } as never)).toThrow(
      /fromArrays needs shape, found undefined/,
    );
    expect(() => bc.data.fromArrays({ x: new Float32Array(4), y: [0, 1], shape: [2], clases: 2 } as never)).toThrow(
      /unknown option "clases"/,
    );
  });
});

describe("a saved model's best epoch", () => {
  it("reads back a test error of NaN (no test set) as NaN, not null", async () => {
    const m = smallMlp();
    await m.fit(toySet(60), { epochs: 2, batchSize: 20, validation: 0.25 });
    expect(m.training?.best.testError).toBeNaN();
    const back = bc.modelFromBytes(await m.toBytes(), "the bytes");
    expect(back.training?.best.testError).toBeNaN();
    expect(back.training?.best.valError).toBe(m.training?.best.valError);
    const dir = mkdtempSync(join(tmpdir(), "bc-best-"));
    await smallMlp().fit(toySet(60), { epochs: 1, batchSize: 20, validation: 0.25, checkpointDir: dir });
    expect((await bc.loadModel(join(dir, "best.bin"))).training?.best.testError).toBeNaN();
  });

  it("refuses unknown options of save and load", async () => {
    const m = smallMlp();
    await expect(m.toBytes({ includeOptimiser: false } as never)).rejects.toThrow(
      /save: unknown option "includeOptimiser"/,
    );
    await expect(bc.loadModel(new Uint8Array(8), { thread: 1 } as never)).rejects.toThrow(
      /load: unknown option "thread"/,
    );
  });
});

describe("a disposed model and the save and load targets", () => {
  it("a disposed model is a UsageError on use, not a model rebuilt from its seed", async () => {
    const m = smallMlp();
    await m.fit(toySet(60), { epochs: 1, batchSize: 20 });
    await m.dispose();
    await expect(m.predict(new Float32Array(16))).rejects.toThrow(bc.UsageError);
    await expect(m.evaluate(toySet(6))).rejects.toThrow(/this model was disposed/);
    await expect(m.toBytes()).rejects.toThrow(/this model was disposed/);
    await m.dispose(); // twice is harmless
  });

  it("a target without a name, a scheme in capitals, and sources load cannot read", async () => {
    const m = smallMlp();
    await expect(m.save("indexeddb://")).rejects.toThrow(/save: "indexeddb:\/\/" has no name/);
    await expect(m.save("DownLoads://")).rejects.toThrow(/has no name/);
    await expect(m.save("ftp://host/x")).rejects.toThrow(/unknown destination "ftp:\/\/host\/x"/);
    await expect(bc.loadModel("IndexedDB://")).rejects.toThrow(/load: "IndexedDB:\/\/" has no name/);
    await expect(bc.loadModel("downloads://x")).rejects.toThrow(/cannot be read back[\s\S]*arrayBuffer/);
    await expect(bc.loadModel("https://example.org/m.bcmodel")).rejects.toThrow(
      /is a URL[\s\S]*fetch it and pass the bytes/,
    );
    await expect(bc.loadModel("s3://bucket/m")).rejects.toThrow(/unknown source/);
  });
});

describe("class names", () => {
  it("a model keeps its training set's class names: after fit, in saved files and in the .bcnet", async () => {
    const x = Float32Array.from({ length: 60 * 16 }, (_, i) => Math.sin(i * 0.7));
    const y = Array.from({ length: 60 }, (_, i) => i % 3);
    const named = bc.data.fromArrays({ x, y, shape: [16], classNames: ["ant", "bee", "cow"] });
    const m = model({});
    expect(m.classNames).toBeUndefined();
    await m.fit(named, { epochs: 1, batchSize: 20, preprocess: [bc.preprocess.subtractMean()] });
    expect(m.classNames).toEqual(["ant", "bee", "cow"]);
    const loaded = await bc.loadModel(await m.toBytes(), { backend: "reference" });
    expect(loaded.classNames).toEqual(["ant", "bee", "cow"]);
    const { BinaryClassifier } = await import("../src/infer/index.js");
    expect((await BinaryClassifier.load(await m.exportBcnet(), { engine: "js" })).classNames).toEqual([
      "ant",
      "bee",
      "cow",
    ]);
    const plain = model({});
    await plain.fit(bc.data.fromArrays({ x, y, shape: [16] }), { epochs: 1, batchSize: 20, preprocess: [] });
    expect(plain.classNames).toBeUndefined();
    expect((await BinaryClassifier.load(await plain.exportBcnet(), { engine: "js" })).classNames).toBeUndefined();
  });

  it("a model keeps a CSV's feature names: Model.featureNames and the .bcnet's info", async () => {
    const lines = Array.from({ length: 40 }, (_, i) => `${Math.sin(i)},${Math.cos(i)},${i % 2 ? "odd" : "even"}`);
    const set = bc.data.parseCsv(`left,right,kind\n${lines.join("\n")}\n`);
    expect(set.featureNames).toEqual(["left", "right"]);
    const m = bc.sequential({
      inputShape: [2],
      backend: "reference",
      layers: [bc.layers.dense({ units: 2 }), bc.layers.batchNorm()],
    });
    expect(m.featureNames).toBeUndefined();
    await m.fit(set, { epochs: 1, batchSize: 10, preprocess: [] });
    expect(m.featureNames).toEqual(["left", "right"]);
    expect((await bc.loadModel(await m.toBytes(), { backend: "reference" })).featureNames).toEqual(["left", "right"]);
    const { BinaryClassifier } = await import("../src/infer/index.js");
    const net = await BinaryClassifier.load(await m.exportBcnet(), { engine: "js" });
    expect(net.model.info.csv).toEqual({ columns: ["left", "right"] });
    const ort = await import("onnxruntime-node");
    const session = await ort.InferenceSession.create(await m.exportOnnx());
    expect(session.inputNames).toEqual(["features"]);
    await session.release();
    // a set with the same features in another order is read in the model's order; other names are refused
    const swapped = bc.data.parseCsv(
      `kind,right,left\n${lines.map((l) => l.split(",").reverse().join(",")).join("\n")}\n`,
      { label: "kind" },
    );
    expect(swapped.featureNames).toEqual(["right", "left"]);
    const [a, b] = [await m.evaluate(set), await m.evaluate(swapped)];
    expect(b).toEqual(a);
    const scrambled = bc.data.fromArrays({ x: swapped.x, y: swapped.y, shape: [2] }); // the same values, no names: by position
    expect(Array.from((await m.predict(scrambled)).labels)).not.toEqual(Array.from((await m.predict(set)).labels));
    const fresh = bc.sequential({
      inputShape: [2],
      backend: "reference",
      layers: [bc.layers.dense({ units: 2 }), bc.layers.batchNorm()],
    });
    const history = await fresh.fit(set, { epochs: 1, batchSize: 10, preprocess: [], test: swapped });
    expect(history.best.testError).toBe((await fresh.evaluate(set)).error);
    const renamed = bc.data.parseCsv(`up,down,kind\n${lines.join("\n")}\n`);
    await expect(m.evaluate(renamed)).rejects.toThrow(
      /its features are named "up", "down"; the model's are "left", "right"/,
    );
    expect(() => bc.data.fromArrays({ x: [1, 2], y: [0], shape: [2], featureNames: ["a", "a"] })).toThrow(
      /featureNames to be distinct strings/,
    );
    expect(() => bc.data.fromArrays({ x: [1, 2], y: [0], shape: [2], featureNames: ["a"] })).toThrow(
      /1 feature names for examples of 2 values/,
    );
  });

  it("a set with other class names is numbered by the model's: evaluate, and fit's validation and test sets", async () => {
    const x = Float32Array.from({ length: 60 * 16 }, (_, i) => Math.sin(i * 0.7) + (i % 3));
    const y = Array.from({ length: 60 }, (_, i) => i % 3);
    const names = ["ant", "bee", "cow"];
    const all = bc.data.fromArrays({ x, y, shape: [16], classNames: names });
    // the bees and cows only, numbered 0 and 1 in a set of their own
    const keep = y.flatMap((c, i) => (c > 0 ? [i] : []));
    const subset = (classNames?: string[]) =>
      bc.data.fromArrays({
        x: Float32Array.from(keep.flatMap((i) => Array.from(x.subarray(i * 16, (i + 1) * 16)))),
        y: keep.map((i) => (classNames ? y[i] - 1 : y[i])),
        shape: [16],
        ...(classNames ? { classNames } : {}),
      });
    const m = model({});
    const history = await m.fit(all, { epochs: 2, batchSize: 20, preprocess: [], test: subset(["bee", "cow"]) });
    const asModel = await m.evaluate(subset()); // labels 1 and 2: the model's numbering
    expect((await m.evaluate(subset(["bee", "cow"]))).error).toBe(asModel.error);
    expect([history.best.epoch, history.best.testError]).toEqual([2, asModel.error]);
    await expect(m.evaluate(subset(["bee", "yak"]))).rejects.toThrow(
      /class "yak" is not one of the training data's: "ant", "bee", "cow"/,
    );
  });
});
