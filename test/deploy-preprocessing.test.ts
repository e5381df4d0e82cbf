/**
 * Models whose inputs need the CIFAR-10 (GCN + ZCA) or SVHN (GCN + LCN) preprocessing deploy
 * from raw pixels: trained with the library, exported straight from memory to .bcnet and ONNX,
 * they give the training engine's classes when binaryconnect/infer and onnxruntime are handed
 * the raw images.
 */
import * as ort from "onnxruntime-node";
import { describe, expect, it } from "vitest";
import { Xoshiro128 } from "../src/core/rng.js";
import * as bc from "../src/index.js";
import { BinaryClassifier } from "../src/infer/index.js";

/** n RGB 8x8 images (0..255) in 3 classes: class k brightens rows 2k..2k+2 of channel k, plus noise. */
function images(n: number, seed: number): bc.Dataset {
  const rng = new Xoshiro128(seed);
  const x = new Float32Array(n * 8 * 8 * 3),
    y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = i % 3;
    for (let p = 0; p < 64; p++)
      for (let c = 0; c < 3; c++)
        x[(i * 64 + p) * 3 + c] = Math.floor(
          rng.next() * 120 + (c === y[i] && Math.floor(p / 8 / 2) === y[i] ? 130 : 0),
        );
  }
  return bc.data.fromArrays({ x, y, shape: [8, 8, 3], classes: 3 });
}

const PIPELINES = {
  "CIFAR-10's kind (GCN 55 + ZCA; filter bias 10 for this small set)": [
    bc.preprocess.gcn({ scale: 55 }),
    bc.preprocess.zca({ filterBias: 10 }),
  ],
  "SVHN (GCN + LCN 7x7)": [bc.preprocess.gcn({ scale: 1 }), bc.preprocess.lcn()],
};

describe("exporting models with image preprocessing", () => {
  for (const [name, preprocess] of Object.entries(PIPELINES)) {
    it(`${name}: .bcnet and ONNX on raw pixels give the engine's classes`, async () => {
      const model = bc.fromArchitecture("8C3-MP2-16FC-3", {
        inputShape: [8, 8, 3],
        backend: "wasm",
        threads: 1,
        seed: 2,
      });
      await model.fit(images(1000, 1), { epochs: 4, batchSize: 50, preprocess });
      const test = images(120, 7);
      const engine = await model.predict(test, { testTime: "binary" });
      expect(engine.labels.filter((l, i) => l === test.y[i]).length / test.n).toBeGreaterThan(0.55); // chance: 0.33
      const classifier = await BinaryClassifier.load(await model.exportBcnet());
      const deployed = classifier.predict(test.x, test.n);
      expect(Array.from(deployed.labels)).toEqual(Array.from(engine.labels));
      for (let i = 0; i < engine.scores.length; i++)
        expect(Math.abs(deployed.scores[i] - engine.scores[i])).toBeLessThan(1e-3 + 1e-3 * Math.abs(engine.scores[i]));
      const session = await ort.InferenceSession.create(await model.exportOnnx());
      const out = await session.run({ pixels: new ort.Tensor("float32", test.x, [test.n, test.features]) });
      const scores = out.scores.data as Float32Array;
      for (let i = 0; i < engine.scores.length; i++)
        expect(Math.abs(scores[i] - engine.scores[i])).toBeLessThan(1e-3 + 1e-3 * Math.abs(engine.scores[i]));
      await model.dispose();
    }, 60_000);
  }

  it("a model with a real-valued layer exports to ONNX only", async () => {
    const model = bc.sequential({
      inputShape: [8, 8, 3],
      backend: "reference",
      layers: [
        bc.layers.flatten(),
        bc.layers.dense({ units: 16 }),
        bc.layers.batchNorm(),
        bc.layers.relu(),
        bc.layers.dense({ units: 3, binarize: "none" }),
        bc.layers.batchNorm(),
      ],
    });
    await model.fit(images(200, 3), { epochs: 1, batchSize: 50, preprocess: [bc.preprocess.scale(1 / 255)] });
    await expect(model.exportBcnet()).rejects.toThrow(/has layers with real weights[\s\S]*export it as ONNX/);
    const session = await ort.InferenceSession.create(await model.exportOnnx());
    const test = images(30, 5);
    const out = await session.run({ pixels: new ort.Tensor("float32", test.x, [test.n, test.features]) });
    const engine = await model.predict(test);
    const scores = out.scores.data as Float32Array;
    for (let i = 0; i < engine.scores.length; i++)
      expect(Math.abs(scores[i] - engine.scores[i])).toBeLessThan(1e-4 + 1e-4 * Math.abs(engine.scores[i]));
    await model.dispose();
  });

  it("a model without preprocessing is not exported silently", async () => {
    const model = bc.fromArchitecture("4C3-3", { inputShape: [8, 8, 3], backend: "reference" });
    await expect(model.exportBcnet()).rejects.toThrow(/^the model: no preprocessing, so a deployed model/);
  });
});
