// The convolutions of binaryconnect/infer per layer: plane tables (conv2dPlane, tables built
// once per input position) against unfolded patches (conv2dLut), on the layers of the
// inference benchmark's CNN (cifar10-small), timed side by side on one thread.
//   node dist/bench/infer-conv.js [runs] [images,...]
import type { BcnetDense, BcnetMaxPool, BcnetModel } from "../src/format/bcnet.js";
import { imageOutput } from "../src/format/bcnet.js";
import { imageSize } from "../src/format/shapes.js";
import { BinaryClassifier } from "../src/infer/index.js";
import { convRouting } from "../src/infer/wasmEngine.js";
import { inferCnnNetwork } from "./infer-cnn.js";
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

const load = async (model: BcnetModel, route: "planes" | "unfolded" | "auto") => {
  convRouting.route = route;
  try {
    return await BinaryClassifier.load(model, { engine: "wasm" });
  } finally {
    convRouting.route = "auto";
  }
};

const what = (model: BcnetModel) => {
  const l = model.layers[0];
  return model === net.model
    ? "network (planes: auto)"
    : l.kind === "conv"
      ? `${l.input.height}x${l.input.width}x${l.input.channels} -> ${l.filters}C${l.kernel[0]}${l.pool ? "-MP2" : ""}`
      : "network";
};
const models = [...net.model.layers.flatMap((l, i) => (l.kind === "conv" ? [layerModel(i)] : [])), net.model];
console.log(`${"layer".padEnd(26)} batch  unfolded ms  planes ms  speed-up`);
for (const model of models) {
  const [a, b] = [await load(model, "unfolded"), await load(model, model === net.model ? "auto" : "planes")];
  for (const batch of batches) {
    const x = new Float32Array(batch * model.inputs).map((_, k) => Math.sin(k) * 0.5);
    const ta = a.predictFeatures(x, batch).scores,
      tb = b.predictFeatures(x, batch).scores;
    let diff = 0;
    for (let k = 0; k < ta.length; k++) diff = Math.max(diff, Math.abs(ta[k] - tb[k]));
    const [u, p] = await timeInterleaved(
      [async () => a.predictFeatures(x, batch), async () => b.predictFeatures(x, batch)],
      { warmup: 3, runs, minRunMs: 150 },
    );
    console.log(
      `${what(model).padEnd(26)} ${String(batch).padStart(5)}  ${(u.median * 1e3).toFixed(3).padStart(11)}  ${(p.median * 1e3).toFixed(3).padStart(9)}  ${(u.median / p.median).toFixed(2)}x  (max |diff| ${diff.toExponential(1)})`,
    );
  }
}
