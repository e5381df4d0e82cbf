// The convolutions of binaryconnect/infer per layer (conv2dLut: blocks of 16 output positions
// unfolded into their patches, then the lookup tables), on the layers of the inference
// benchmark's CNN (cifar10-small), one thread: ms per call (median) and the multiply-adds it
// stands for (2 Ho Wo Cin Cout kh kw per image) per second.
//   node dist/bench/infer-conv.js [runs] [images,...]
import type { BcnetDense, BcnetMaxPool, BcnetModel } from "../src/format/bcnet.js";
import { imageOutput } from "../src/format/bcnet.js";
import { imageSize } from "../src/format/shapes.js";
import { BinaryClassifier } from "../src/infer/index.js";
import { convLabel, convMacs, inferCnnNetwork } from "./infer-cnn.js";
import { timeInterleaved } from "./stats.js";

const runs = Number(process.argv[2] ?? 7);
const batches = (process.argv[3] ?? "1,50").split(",").map(Number);
const net = inferCnnNetwork();

/** One layer, then a max pooling over the whole image and a dense layer of one unit (a cheap tail). */
function layerModel(i: number): BcnetModel {
  const l = net.model.layers[i];
  if (l.kind !== "conv") throw new Error("a convolution");
  const o = imageOutput(l);
  const pool: BcnetMaxPool = { kind: "maxpool", input: o, window: [o.height, o.width], stride: [o.height, o.width] };
  const tail: BcnetDense = {
    kind: "dense",
    inputs: o.channels,
    units: 1,
    activation: "identity",
    bits: new Uint8Array(Math.ceil(o.channels / 8)),
    scale: Float32Array.of(1),
    shift: Float32Array.of(0),
  };
  const shape = [l.input.height, l.input.width, l.input.channels];
  return {
    inputs: imageSize(l.input),
    image: l.input,
    preprocessing: { shape, steps: [] },
    layers: [l, pool, tail],
    info: { producer: "bench" },
  };
}

const what = (model: BcnetModel) => {
  const l = model.layers[0];
  return model === net.model ? "network" : l.kind === "conv" ? `${convLabel(l)}${l.pool ? "-MP2" : ""}` : "network";
};
/** Multiply-adds of a model's convolutions per image. */
const macs = (model: BcnetModel) => model.layers.reduce((sum, l) => sum + (l.kind === "conv" ? convMacs(l) : 0), 0);
const models = [...net.model.layers.flatMap((l, i) => (l.kind === "conv" ? [layerModel(i)] : [])), net.model];
console.log(`${"layer".padEnd(26)} batch       ms  GFLOP/s-equivalent`);
for (const model of models) {
  const classifier = await BinaryClassifier.load(model, { engine: "wasm" });
  for (const batch of batches) {
    const x = new Float32Array(batch * model.inputs).map((_, k) => Math.sin(k) * 0.5);
    const [t] = await timeInterleaved([async () => classifier.predictFeatures(x, batch)], {
      warmup: 3,
      runs,
      minRunMs: 150,
    });
    const gflops = (2 * macs(model) * batch) / t.median / 1e9;
    console.log(
      `${what(model).padEnd(26)} ${String(batch).padStart(5)}  ${(t.median * 1e3).toFixed(3).padStart(7)}  ${gflops.toFixed(1).padStart(18)}`,
    );
  }
}
