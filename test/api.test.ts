/**
 * The library API (src/index.ts) as a user calls it: models from layers and from the paper's
 * notation, summary, fit on small in-memory sets (validation fraction, callbacks, schedules,
 * early stopping, abort), checkpoint folders (exact resume, continuing a finished run, other
 * data refused), save/load, and the same numbers as the CLI's training for the same run.
 */
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import * as bc from "../src/index.js";
import { networkOf } from "../src/train/model.js";
import { loadCheckpoint } from "../src/train/checkpoint.js";
import type { CheckpointMeta } from "../src/train/trainer.js";
import { smallMlp, toySet } from "./toy-model.js";
import { withoutTimings } from "./cli-helpers.js";

const tmp = () => mkdtempSync(join(tmpdir(), "bc-api-"));

describe("building models", () => {
  it("summary counts parameters and the 1-bit memory of binary layers only", () => {
    const model = bc.sequential({
      inputShape: [28, 28, 1],
      backend: "reference",
      layers: [
        bc.layers.conv2d({ filters: 8, kernelSize: 3 }),
        bc.layers.maxPooling2d(),
        bc.layers.batchNorm(),
        bc.layers.relu(),
        bc.layers.flatten(),
        bc.layers.dense({ units: 10, binarize: "none" }),
        bc.layers.batchNorm({ variant: "standard" }),
      ],
    });
    const s = model.summary();
    // conv 3*3*1*8 = 72 binary weights, bn 16, dense 14*14*8*10 = 15680 real weights, bn 20
    expect(s.params).toBe(72 + 16 + 15680 + 20);
    expect(s.binaryParams).toBe(72);
    expect(s.packedBytes).toBe(Math.ceil(72 / 8) + 4 * (16 + 15680 + 20));
    expect(String(s)).toMatch(/conv0\s+3x3x1x8\s+28x28x8/);
    expect(model.classes).toBe(10);
  });

  it("the paper's notation parses into the same layer objects as the builders", () => {
    const a = bc.fromArchitecture("(2x8C3)-MP2-32FC-10", { inputShape: [16, 16, 3] });
    const b = bc.sequential({
      inputShape: [16, 16, 3],
      layers: [
        bc.layers.conv2d({ filters: 8, kernelSize: 3 }),
        bc.layers.batchNorm(),
        bc.layers.relu(),
        bc.layers.conv2d({ filters: 8, kernelSize: 3 }),
        bc.layers.maxPooling2d({ poolSize: 2 }),
        bc.layers.batchNorm(),
        bc.layers.relu(),
        bc.layers.flatten(),
        bc.layers.dense({ units: 32 }),
        bc.layers.batchNorm(),
        bc.layers.relu(),
        bc.layers.dense({ units: 10 }),
        bc.layers.batchNorm(),
      ],
    });
    expect(a.network).toEqual(b.network);
  });

  it("bad networks and options fail with typed errors that name the problem", () => {
    expect(() => bc.sequential({ inputShape: [4, 4, 1], layers: [bc.layers.dense({ units: 3 })] })).toThrow(
      /a dense layer needs feature vectors.*add a flatten/,
    );
    expect(() => bc.layers.dense({ units: 3, binarise: "det" } as never)).toThrow(/dense: unknown option "binarise"/);
    expect(() => bc.layers.dense({ units: 3, binarize: "sign" as never })).toThrow(bc.OptionError);
    expect(() =>
      bc.sequential({
        inputShape: [3, 3, 1],
        layers: [
          bc.layers.conv2d({ filters: 2, kernelSize: 5, padding: "valid" }),
          bc.layers.flatten(),
          bc.layers.dense({ units: 2 }),
        ],
      }),
    ).toThrow(
      /conv0: the kernel is larger than its padded 3x3 input \(the network's input: \[3,3,1\]\)\n {2}hint: give a larger input, or a smaller window/,
    );
    expect(() =>
      bc.sequential({
        inputShape: [6, 6, 1],
        layers: [
          bc.layers.maxPooling2d({ poolSize: 2 }),
          bc.layers.maxPooling2d({ poolSize: 2 }),
          bc.layers.maxPooling2d({ poolSize: 2 }),
        ],
      }),
    ).toThrow(
      /pool2: the 2x2 pooling window is larger than its 1x1 input \(the network's input: \[6,6,1\]\)[\s\S]*hint: give a larger input, or fewer poolings/,
    );
  });

  it("errors whose message alone does not say what to do carry a hint", async () => {
    expect(() => bc.layers.dense({ units: 0 })).toThrow(/found 0\n {2}hint: units is the layer's number of outputs/);
    expect(() =>
      bc.sequential({
        inputShape: [4],
        layers: [bc.layers.conv2d({ filters: 2, kernelSize: 3 }), bc.layers.dense({ units: 2 })],
      }),
    ).toThrow(/a convolution needs images[\s\S]*hint: give an image input shape \[height, width, channels\]/);
    expect(() => bc.data.fromArrays({ x: new Float32Array(12), y: [0, -1, 1], shape: [4] })).toThrow(
      /example 1's label is -1[\s\S]*hint: labels are class indices/,
    );
    const model = bc.sequential({ inputShape: [4], backend: "reference", layers: [bc.layers.dense({ units: 2 })] });
    const data = bc.data.fromArrays({ x: new Float32Array(8), y: [0, 1], shape: [4] });
    await expect(model.evaluate(data, { testTime: "ensemble" as never })).rejects.toThrow(/hint: e\.g\. "ensemble:5"/);
    model.dispose();
  });

  it("presets return the paper's network and schedule", () => {
    const p = bc.presets.mnistQuick({ mode: "stoch", backend: "reference" });
    expect(
      p.model.network.layers.filter((l) => l.kind === "dense").map((l) => (l.kind === "dense" ? l.units : 0)),
    ).toEqual([1024, 1024, 1024, 10]);
    expect(p.fitOptions).toMatchObject({
      epochs: 100,
      batchSize: 200,
      lr: { start: 3e-3, end: 3e-6 },
      testTime: { kind: "real" },
    });
    expect(bc.presets.cifar100Paper().model.classes).toBe(100);
  });
});

describe("fit", () => {
  it("refuses an empty set, a seed past 32 bits, and a checkpoint folder it cannot use, with typed errors", async () => {
    const empty = bc.data.fromArrays({ x: new Float32Array(0), y: new Int32Array(0), shape: [16], classes: 3 });
    await expect(smallMlp().evaluate(empty)).rejects.toThrow(/evaluate: the set is empty \(0 examples\)/);
    await expect(smallMlp().fit(toySet(60), { epochs: 1, batchSize: 20, test: empty })).rejects.toBeInstanceOf(
      bc.ShapeError,
    );
    expect(() => smallMlp({ seed: 2 ** 32 })).toThrow(bc.OptionError);
    expect(() => smallMlp({ seed: 2 ** 32 - 1 })).not.toThrow();
    // a file where the folder should be: the typed storage error of the main entry, naming the path
    const file = join(mkdtempSync(join(tmpdir(), "bc-api-")), "a-file");
    await bc.sequential({ inputShape: [16], layers: [bc.layers.dense({ units: 3 })] }).save(file);
    const e = await smallMlp()
      .fit(toySet(60), { epochs: 1, batchSize: 20, checkpointDir: file })
      .catch((err: unknown) => err);
    expect(e).toBeInstanceOf(bc.StorageError);
    expect((e as bc.StorageError).path).toBe(file);
    expect(bc.RunInUseError.prototype).toBeInstanceOf(bc.BinaryConnectError);
  });

  it("trains a 3,000-example set from arrays with a validation fraction, calling back per batch and epoch", async () => {
    const model = smallMlp();
    const events: string[] = [];
    const history = await model.fit(toySet(3000), {
      epochs: 3,
      batchSize: 100,
      validation: 0.2,
      callbacks: {
        onEpochBegin: (e, { batches }) => events.push(`begin ${e} ${batches}`),
        onBatchEnd: (b) => b === 24 && events.push("batch 24"),
        onEpochEnd: (e, logs) => void events.push(`end ${e} ${logs.val_error < 1}`),
      },
    });
    expect(events).toEqual([
      "begin 1 24",
      "batch 24",
      "end 1 true",
      "begin 2 24",
      "batch 24",
      "end 2 true",
      "begin 3 24",
      "batch 24",
      "end 3 true",
    ]);
    expect(history.epochs.map((r) => r.epoch)).toEqual([1, 2, 3]);
    expect(history.best.valError).toBeLessThan(0.2);
    const { error } = await model.evaluate(toySet(600, 16, 9));
    expect(error).toBeLessThan(0.2);
    const p = await model.predict(toySet(30, 16, 5));
    expect(p.labels.length).toBe(30);
    expect(p.scores.length).toBe(90);
    await model.dispose();
  });

  it("labels outside the model's classes are a clear error", async () => {
    const model = smallMlp();
    const bad = bc.data.fromArrays({ x: new Float32Array(16 * 10), y: [0, 1, 2, 3, 0, 1, 2, 3, 0, 1], shape: [16] });
    await expect(model.fit(bad, { epochs: 1, batchSize: 5 })).rejects.toThrow(
      /example 3's label is 3, outside the model's 3 classes 0\.\.2/,
    );
    expect(() => bc.data.fromArrays({ x: new Float32Array(4), y: [0, 5], shape: [2], classes: 3 })).toThrow(
      /example 1's label is 5, outside the 3 classes/,
    );
    await model.dispose();
  });

  it("the cosine schedule goes from start towards end; the exponential one is the authors'", async () => {
    const lrs = async (schedule: "cosine" | "exponential") => {
      const m = smallMlp();
      const h = await m.fit(toySet(300), { epochs: 4, batchSize: 100, lr: { start: 1e-2, end: 1e-4 }, schedule });
      await m.dispose();
      return h.epochs.map((r) => r.lr);
    };
    const cos = await lrs("cosine");
    expect(cos[0]).toBeCloseTo(1e-2, 12);
    expect(cos[2]).toBeCloseTo(1e-4 + (1e-2 - 1e-4) / 2, 12);
    const exp = await lrs("exponential");
    expect(exp[1] / exp[0]).toBeCloseTo((1e-4 / 1e-2) ** (1 / 4), 12);
  });

  it("early stopping ends the run after `patience` epochs without a better validation error, and restores the best weights", async () => {
    const model = smallMlp();
    // lr so high that validation stops improving
    const history = await model.fit(toySet(600), {
      epochs: 30,
      batchSize: 50,
      validation: 0.5,
      lr: { start: 0.5, end: 0.5 },
      earlyStopping: { patience: 2, restoreBest: true },
    });
    expect(history.stoppedEarly).toBe(true);
    const firstBest = history.epochs.findIndex((r) => r.val_error === history.best.valError) + 1;
    expect(history.epochsDone).toBe(firstBest + 2);
    const val = bc.data.sliceDataset(toySet(600), 300, 300);
    expect((await model.evaluate(val)).error).toBe(history.best.valError);
    await model.dispose();
  });

  it("early stopping counts from the first epoch at the best validation error (a tie is no improvement)", async () => {
    const model = smallMlp();
    const history = await model.fit(toySet(600), {
      epochs: 40,
      batchSize: 50,
      validation: 0.5,
      earlyStopping: { patience: 3 },
    });
    const errors = history.epochs.map((r) => r.val_error);
    const lowest = Math.min(...errors);
    const first = errors.indexOf(lowest) + 1;
    // the data are easy: the validation error reaches its lowest value and stays there (ties)
    expect(errors.filter((e) => e === lowest).length).toBeGreaterThan(1);
    expect(history.stoppedEarly).toBe(true);
    expect(history.epochsDone).toBe(first + 3);
    // the authors' rule still takes the last of the tied epochs as the best one
    expect(history.best.epoch).toBe(errors.lastIndexOf(lowest) + 1);
    await expect(smallMlp().fit(toySet(60), { epochs: 2, earlyStopping: { patience: 1 } })).rejects.toThrow(
      "fit: earlyStopping watches the validation error, and no validation set was given",
    );
  });

  it("an abort signal stops training before the next step", async () => {
    const model = smallMlp();
    const controller = new AbortController();
    let batches = 0;
    const run = model.fit(toySet(1000), {
      epochs: 5,
      batchSize: 10,
      signal: controller.signal,
      callbacks: { onBatchEnd: () => ++batches === 7 && controller.abort(new Error("stop here")) },
    });
    await expect(run).rejects.toThrow("stop here");
    expect(batches).toBe(7);
    await model.dispose();
  });

  it("a fit aborted part way through an epoch continues from that step (aborted without a folder, with one, or saved and loaded)", async () => {
    const data = toySet(400);
    const opts = { epochs: 4, batchSize: 50, validation: 0.25, test: toySet(100, 16, 4) } as const;
    const full = smallMlp();
    const want = await full.fit(data, opts);
    const stateOf = async (m: bc.Model) => (await m.getState(true)).tensors.map((t) => Array.from(t.data));
    for (const how of ["memory", "file", "folder"] as const) {
      let model = smallMlp();
      const controller = new AbortController();
      let steps = 0;
      // 6 steps an epoch: the abort comes after step 3 of epoch 2
      const cb = { onBatchEnd: () => void (++steps === 9 && controller.abort(new Error("stop"))) };
      // "folder": the aborted fit had a run folder (which keeps the step too); the next one has none
      const first = {
        ...opts,
        signal: controller.signal,
        callbacks: cb,
        ...(how === "folder" ? { checkpointDir: tmp() } : {}),
      };
      await expect(model.fit(data, first)).rejects.toThrow("stop");
      expect(model.training?.epochsDone).toBe(1);
      expect(model.training?.partial).toMatchObject({ epoch: 2, batch: 3 });
      if (how === "file") model = await bc.loadModel(await model.toBytes(), { backend: "reference" });
      const rest = await model.fit(data, opts);
      expect(rest.epochs.map(withoutTimings)).toEqual(want.epochs.map(withoutTimings));
      expect(await stateOf(model)).toEqual(await stateOf(full));
      expect(model.training?.partial).toBeUndefined();
    }
  });

  it("an abort signal stops a run of many short epochs (its clock is not reset each epoch)", async () => {
    const model = smallMlp();
    const started = performance.now();
    const run = model.fit(toySet(60), { epochs: 100000, batchSize: 20, signal: AbortSignal.timeout(150) });
    await expect(run).rejects.toThrow(/aborted|timed? ?out/i);
    expect(model.training?.epochsDone ?? 0).toBeLessThan(100000);
    expect(performance.now() - started).toBeLessThan(20000);
  });
});

describe("checkpoint folders", () => {
  it("an interrupted run resumes to the same numbers and weights as an uninterrupted one; a finished run continues with more epochs", async () => {
    const data = toySet(400),
      dirA = tmp(),
      dirB = tmp();
    const opts = { batchSize: 50, validation: 0.25, test: toySet(100, 16, 4) } as const;
    const a = smallMlp();
    const full = await a.fit(data, { ...opts, epochs: 4, checkpointDir: dirA });
    const b1 = smallMlp();
    await b1.fit(data, { ...opts, epochs: 4, checkpointDir: dirB, maxEpochsThisCall: 2 });
    await b1.dispose();
    const b2 = smallMlp(); // a new process would start from the model's code again
    const resumed = await b2.fit(data, { ...opts, epochs: 4, checkpointDir: dirB });
    expect(resumed.trained.map((r) => r.epoch)).toEqual([3, 4]);
    expect(resumed.epochs.map(withoutTimings)).toEqual(full.epochs.map(withoutTimings));
    expect(readFileSync(join(dirB, "checkpoint.bin"))).toEqual(readFileSync(join(dirA, "checkpoint.bin")));
    const more = await b2.fit(data, { ...opts, epochs: 6, checkpointDir: dirB });
    expect(more.trained.map((r) => r.epoch)).toEqual([5, 6]);
    expect(loadCheckpoint<CheckpointMeta>(join(dirB, "checkpoint.bin")).meta.epochsDone).toBe(6);
    expect(readFileSync(join(dirB, "metrics.jsonl"), "utf8").trim().split("\n")).toHaveLength(6);
    await a.dispose();
    await b2.dispose();
  });

  it("a program run again with the same options (preprocess included) continues its run", async () => {
    const dir = tmp(),
      data = toySet(300);
    const opts = { batchSize: 50, epochs: 3, checkpointDir: dir, preprocess: [bc.preprocess.subtractMean()] };
    const first = smallMlp();
    await first.fit(data, { ...opts, maxEpochsThisCall: 1 });
    await first.dispose();
    const second = smallMlp();
    const h = await second.fit(data, opts);
    expect(h.trained.map((r) => r.epoch)).toEqual([2, 3]);
    expect(second.preprocessing?.steps[0].kind).toBe("subtractMean");
    await second.dispose();
  });

  it("a run folder refuses other data, naming the difference, and another network", async () => {
    const dir = tmp();
    const m = smallMlp();
    await m.fit(toySet(200), { epochs: 1, batchSize: 50, checkpointDir: dir });
    await m.dispose();
    await expect(smallMlp().fit(toySet(200, 16, 2), { epochs: 2, batchSize: 50, checkpointDir: dir })).rejects.toThrow(
      /holds a run trained on other data: the same number of examples \(200\) but other values/,
    );
    await expect(smallMlp().fit(toySet(300), { epochs: 2, batchSize: 50, checkpointDir: dir })).rejects.toThrow(
      /trained on 200 examples, this data has 300/,
    );
    const other = bc.sequential({
      inputShape: [16],
      backend: "reference",
      seed: 3,
      layers: [bc.layers.dense({ units: 3 }), bc.layers.batchNorm()],
    });
    await expect(other.fit(toySet(200), { epochs: 2, batchSize: 50, checkpointDir: dir })).rejects.toThrow(
      /holds a run of another network/,
    );
  });
});

describe("preprocessing fitted by fit", () => {
  it("leaves the caller's examples as they were and applies the steps once", async () => {
    const raw = toySet(300);
    const pixels = bc.data.fromArrays({ x: raw.x.map((v) => v * 100), y: raw.y, shape: [16], classes: 3 });
    const before = pixels.x.slice();
    const model = smallMlp();
    await model.fit(pixels, {
      epochs: 1,
      batchSize: 50,
      preprocess: [bc.preprocess.scale(1 / 100), bc.preprocess.subtractMean()],
    });
    expect(pixels.x).toEqual(before);
    const step = model.preprocessing!.steps[1];
    expect(step.kind).toBe("subtractMean");
    let mean0 = 0;
    for (let i = 0; i < raw.n; i++) mean0 += Math.fround(before[i * 16] * Math.fround(1 / 100));
    if (step.kind === "subtractMean") expect(step.mean[0]).toBeCloseTo(mean0 / raw.n, 5);
    // the same model trained on the values the steps produce, marked preprocessed, gives the same epoch
    const prepared = await bc.data.preprocessDataset(model.preprocessing!, pixels);
    const twin = smallMlp();
    twin.preprocessing = model.preprocessing;
    const b = await twin.fit(prepared, { epochs: 1, batchSize: 50 });
    const again = smallMlp();
    const h = await again.fit(pixels, {
      epochs: 1,
      batchSize: 50,
      preprocess: [bc.preprocess.scale(1 / 100), bc.preprocess.subtractMean()],
    });
    expect(h.epochs[0].train_loss).toBe(b.epochs[0].train_loss);
    for (const m of [model, twin, again]) await m.dispose();
  });
});

describe("save and load", () => {
  it("a saved model predicts the same from raw inputs (its preprocessing included) and continues training exactly", async () => {
    const raw = toySet(300);
    const scaled = bc.data.fromArrays({ x: raw.x.map((v) => v * 255), y: raw.y, shape: [16], classes: 3 });
    const model = smallMlp();
    await model.fit(scaled, {
      epochs: 2,
      batchSize: 50,
      preprocess: [bc.preprocess.scale(1 / 255), bc.preprocess.subtractMean()],
    });
    const path = join(tmp(), "m.bcmodel");
    await model.save(path);
    const back = await bc.loadModel(path, { backend: "reference" });
    expect(back.preprocessing?.steps.map((s) => s.kind)).toEqual(["scale", "subtractMean"]);
    const [p1, p2] = [await model.predict(scaled), await back.predict(scaled)];
    expect(p2.scores).toEqual(p1.scores);
    const [h1, h2] = [await model.fit(scaled, { epochs: 3 }), await back.fit(scaled, { epochs: 3 })];
    expect(withoutTimings(h2.trained[0])).toEqual(withoutTimings(h1.trained[0]));
    await expect(bc.loadModel(join(tmp(), "none.bcmodel"))).rejects.toThrow(/no such file/);
    await model.dispose();
    await back.dispose();
  });
});

describe("the same numbers as the CLI's training", () => {
  it("fit on a run's configuration gives the metrics of the run written by binaryconnect 0.1.0, bit for bit", async () => {
    const fixture = join(import.meta.dirname, "fixtures", "v0.1-runs", "mlp-stoch-dropout");
    const { config } = loadCheckpoint<CheckpointMeta>(join(fixture, "checkpoint.bin")).meta;
    const expected = JSON.parse(readFileSync(join(fixture, "metrics.json"), "utf8")) as object[];
    const data = await bc.data.mnistSplits({ meanFrom: config.meanFrom, limit: config.limit });
    const model = new bc.Model(networkOf(config, 784), { backend: "reference", seed: config.seed });
    const history = await model.fit(data.train, {
      validation: data.validation,
      test: data.test,
      epochs: config.epochs,
      batchSize: config.batchSize,
      lr: { start: config.lrStart, end: config.lrEnd },
      testTime: config.testTime,
      evalBatchSize: config.evalBatchSize,
    });
    expect(history.epochs.map(withoutTimings)).toEqual(expected);
    await model.dispose();
  });

  it("a checkpoint written by binaryconnect 0.1.0 loads as a model", async () => {
    const model = await bc.loadModel(
      join(import.meta.dirname, "fixtures", "v0.1-runs", "cnn-stoch", "checkpoint.bin"),
      { backend: "reference" },
    );
    expect(model.network.input).toEqual([28, 28, 1]);
    expect(model.training?.epochsDone).toBe(2);
    const data = await bc.data.mnistSplits({ limit: { train: 0, validation: 0, test: 100 } });
    const { error } = await model.evaluate(data.test);
    expect(error).toBeLessThan(0.9);
    expect(existsSync(join(import.meta.dirname, "fixtures", "v0.1-runs", "cnn-stoch", "checkpoint.bin"))).toBe(true);
    await model.dispose();
  });
});

describe("own data in IDX files", () => {
  it("a 3,000-image IDX set of 14 x 14 images in 4 classes loads and trains", async () => {
    const { writeFileSync } = await import("node:fs");
    const dir = tmp();
    const n = 3000,
      header = (dims: number[]) => {
        const h = Buffer.alloc(4 + 4 * dims.length);
        h.writeUInt32BE(0x800 + dims.length, 0);
        dims.forEach((d, i) => {
          h.writeUInt32BE(d, 4 + 4 * i);
        });
        return h;
      };
    const images = new Uint8Array(n * 196),
      labels = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      labels[i] = i % 4;
      for (let p = 0; p < 196; p++)
        images[i * 196 + p] = (Math.floor(p / 49) === labels[i] ? 200 : 0) + ((i * 7 + p * 13) % 50);
    }
    writeFileSync(join(dir, "images.idx"), Buffer.concat([header([n, 14, 14]), images]));
    writeFileSync(join(dir, "labels.idx"), Buffer.concat([header([n]), labels]));
    const data = await bc.data.loadIdx(join(dir, "images.idx"), join(dir, "labels.idx"));
    expect([data.n, data.classes, ...data.shape]).toEqual([3000, 4, 14, 14, 1]);
    const model = bc.fromArchitecture("64FC-4", { inputShape: [14, 14, 1], backend: "reference" });
    const history = await model.fit(data, {
      epochs: 2,
      batchSize: 50,
      validation: 0.1,
      preprocess: [bc.preprocess.scale(1 / 255), bc.preprocess.subtractMean()],
    });
    expect(history.best.valError).toBeLessThan(0.1);
    await expect(bc.data.loadIdx(join(dir, "labels.idx"), join(dir, "images.idx"))).rejects.toThrow(
      /expected IDX images N x H x W/,
    );
    await model.dispose();
  });
});
