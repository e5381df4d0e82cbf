/**
 * The compute bounds of the .bcnet reader (docs/FORMAT.md, "Compute bounds"): a small file
 * whose shapes ask for minutes of work per example is refused before anything runs, unless
 * the caller allows it; the paper's networks and bigger realistic ones load.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ModelFormatError, ShapeError } from "../src/core/errors.js";
import { LIMITS, type BcnetModel } from "../src/format/bcnet.js";
import { chainLayers, type LayerEntry } from "../src/format/chain.js";
import { allowedWork, checkCompute, computeCost, modelCost } from "../src/format/cost.js";
import { decodeBcnet } from "../src/format/decode.js";
import { encodeBcnet } from "../src/format/encode.js";
import { BinaryClassifier } from "../src/infer/index.js";
import { c3, randomImageModel, randomModel } from "./bcnet-fixtures.js";
import { thrownBy } from "./thrown.js";

type Conv = Extract<LayerEntry, { kind: "conv" }>;
const conv = (filters: number, kernel: number, pad: number, stride = 1, pool = false): Conv => ({
  kind: "conv",
  filters,
  kernel: [kernel, kernel],
  stride: [stride, stride],
  pad: [pad, pad],
  pool: pool ? { window: [2, 2], stride: [2, 2] } : null,
  activation: "relu",
});
const maxpool = (w: number, s = w): LayerEntry => ({ kind: "maxpool", window: [w, w], stride: [s, s] });
const dense = (units: number, last = false): LayerEntry => ({
  kind: "dense",
  units,
  activation: last ? "identity" : "relu",
});

/**
 * The fault-injection file: 60 convolutions of 1 filter, 32x32 kernels, padding 31, growing a
 * 1x1 input to 1861x1861, then poolings of (at most) 32x32, stride the window, back to 1x1 and
 * a dense layer of 10 classes.
 */
function paddingBomb(layers = 60): BcnetModel {
  const entries: LayerEntry[] = Array.from({ length: layers }, () => conv(1, 32, 31));
  for (let side = 1 + 31 * layers; side > 1; side = Math.floor(side / Math.min(32, side)))
    entries.push(maxpool(Math.min(32, side)));
  return randomImageModel({ height: 1, width: 1, channels: 1 }, [...entries, dense(10, true)], 7);
}

/** Heads only (no arrays): the cost of a network too big to build in a test. */
function headsOf(image: { height: number; width: number; channels: number }, entries: LayerEntry[]) {
  return chainLayers(image.height * image.width * image.channels, image, entries, (what) => {
    throw new ShapeError(what);
  });
}

/** Runs `fn` and returns the ModelFormatError it throws (fails the test otherwise). */
const formatError = (fn: () => unknown): ModelFormatError => thrownBy(ModelFormatError, fn);

const CIFAR10_PAPER: LayerEntry[] = [
  c3(128),
  c3(128, true),
  c3(256),
  c3(256, true),
  c3(512),
  c3(512, true),
  dense(1024),
  dense(1024),
  dense(10, true),
];

describe(".bcnet compute bounds", () => {
  const bomb = paddingBomb();
  const bytes = encodeBcnet(bomb);

  it("the padding bomb is a small valid file that asks for ~7e10 multiply-adds per example", () => {
    expect(bytes.length).toBeGreaterThan(11_000);
    expect(bytes.length).toBeLessThan(12_500);
    const cost = modelCost(bomb);
    expect(cost.multiplyAdds).toBeGreaterThan(7e10);
    expect(cost.weights).toBe(60 * 1024 + 10 + 1); // the binary weights and the one-value mean
    expect(cost.largestActivation).toBe(1861 * 1861);
    expect(cost.work).toBeGreaterThan(LIMITS.work);
    expect(cost.work / cost.weights).toBeGreaterThan(LIMITS.workPerWeight);
  });

  it("decodeBcnet refuses it at once, naming the layer and the numbers, with a hint", () => {
    const started = performance.now();
    const err = formatError(() => decodeBcnet(bytes, "bomb.bcnet"));
    expect(performance.now() - started).toBeLessThan(1000);
    expect(err.problem).toBe("invalid");
    expect(err.message).toMatch(
      /^bomb\.bcnet: layer \d+ \(conv \d+x\d+x1 -> \d+x\d+x1, kernel 32x32, stride 1x1, padding 31x31\) brings the work per example to /,
    );
    expect(err.message).toContain("multiply-adds");
    expect(err.message).toContain("a model of 61451 weights may do 1.07e9 operations per example");
    expect(err.message).toContain("largest activation 3.46e6 values");
    expect(err.hint).toContain("allowLargeCompute");
    expect(err.hint).toContain("--allow-large-models");
  });

  it("the layer named is the first at which the work passes the bound", () => {
    const cost = modelCost(bomb);
    const allowed = allowedWork(cost.weights);
    expect(allowed).toBe(LIMITS.freeWork); // 4096 x 61450 is less than 2^30
    let sofar = cost.preprocessing,
      at = 0;
    for (; sofar + cost.layers[at].work <= allowed; at++) sofar += cost.layers[at].work;
    expect(formatError(() => decodeBcnet(bytes, "b")).message).toContain(`: layer ${at} (conv`);
  });

  it("loads with allowLargeCompute (decodeBcnet and BinaryClassifier.load); fewer layers are refused too", async () => {
    const model = decodeBcnet(bytes, "bomb.bcnet", { allowLargeCompute: true });
    expect(model.layers.length).toBe(63);
    await expect(BinaryClassifier.load(bytes)).rejects.toBeInstanceOf(ModelFormatError);
    const net = await BinaryClassifier.load(bytes, { allowLargeCompute: true, engine: "js" });
    expect(net.classes).toBe(10);
    await expect(BinaryClassifier.load(bytes, { allowLargeCompute: "yes" as unknown as boolean })).rejects.toThrow(
      "expected true or false",
    );
    for (const layers of [8, 20]) {
      expect(formatError(() => decodeBcnet(encodeBcnet(paddingBomb(layers)), "b")).problem).toBe("invalid");
    }
  });

  it("a model passed as an object is not held to the bounds (it was decoded, or is the caller's)", async () => {
    const net = await BinaryClassifier.load(decodeBcnet(bytes, "b", { allowLargeCompute: true }), { engine: "js" });
    expect(net.inputs).toBe(1);
  });

  it("the existing fixtures and the demo's model still load", () => {
    const demo = decodeBcnet(
      new Uint8Array(readFileSync(new URL("../demo/public/mnist-mlp.bcnet", import.meta.url))),
      "demo",
    );
    expect(modelCost(demo).work).toBeLessThan(1e7);
    for (const m of [
      randomModel([784, 1024, 1024, 1024, 10]),
      randomImageModel({ height: 28, width: 28, channels: 1 }, [
        c3(8),
        c3(8, true),
        c3(12, true),
        maxpool(2),
        dense(24),
        dense(10, true),
      ]),
      randomImageModel({ height: 1, width: 1, channels: 1 }, [conv(4, 3, 2), conv(4, 3, 2), dense(10, true)]),
    ]) {
      expect(decodeBcnet(encodeBcnet(m), "fixture").layers.length).toBe(m.layers.length);
    }
  });

  it("the paper's CIFAR-10 CNN (~0.6e9 multiply-adds per example) loads", () => {
    const model = randomImageModel({ height: 32, width: 32, channels: 3 }, CIFAR10_PAPER, 5);
    const cost = modelCost(model);
    expect(cost.multiplyAdds).toBeGreaterThan(6e8);
    expect(cost.multiplyAdds).toBeLessThan(6.3e8);
    expect(cost.work).toBeLessThan(LIMITS.freeWork);
    expect(decodeBcnet(encodeBcnet(model), "cifar10.bcnet").layers.length).toBe(9);
  });

  it("bigger realistic networks are within the bounds: the CIFAR-10 CNN on 96x96, VGG-16 on 224x224x3", () => {
    const fail = (what: string): never => {
      throw new ModelFormatError("invalid", what);
    };
    const vgg = headsOf({ height: 224, width: 224, channels: 3 }, [
      c3(64),
      c3(64, true),
      c3(128),
      c3(128, true),
      c3(256),
      c3(256),
      c3(256, true),
      c3(512),
      c3(512),
      c3(512, true),
      c3(512),
      c3(512),
      c3(512, true),
      dense(4096),
      dense(4096),
      dense(1000, true),
    ]);
    const cost = computeCost(224 * 224 * 3, vgg, []);
    expect(cost.multiplyAdds).toBeGreaterThan(1.5e10);
    expect(cost.multiplyAdds).toBeLessThan(1.6e10);
    expect(cost.work / cost.weights).toBeLessThan(200);
    expect(cost.work).toBeLessThan(LIMITS.work);
    expect(() => checkCompute(cost, vgg, fail)).not.toThrow();
    const cifarBig = headsOf({ height: 96, width: 96, channels: 3 }, CIFAR10_PAPER);
    expect(() => checkCompute(computeCost(96 * 96 * 3, cifarBig, []), cifarBig, fail)).not.toThrow();
  });

  it("a tiny network on a large image passes the free bound only while it does little work", () => {
    const fail = (what: string): never => {
      throw new ModelFormatError("invalid", what);
    };
    const small = headsOf({ height: 256, width: 256, channels: 1 }, [
      conv(8, 3, 1),
      conv(8, 3, 1, 1, true),
      maxpool(4),
      dense(10, true),
    ]);
    expect(() => checkCompute(computeCost(65536, small, []), small, fail)).not.toThrow();
    // 60 "same" convolutions of one 32x32 filter on 1024x1024: 6e10 multiply-adds from 8 KB of weights.
    const big = headsOf({ height: 1024, width: 1024, channels: 1 }, [
      ...Array.from({ length: 60 }, () => conv(1, 31, 15)),
      maxpool(32),
      maxpool(32),
      dense(10, true),
    ]);
    expect(() => checkCompute(computeCost(1 << 20, big, []), big, fail)).toThrow(
      /layer \d+ \(conv 1024x1024x1 -> 1024x1024x1/,
    );
  });
});
