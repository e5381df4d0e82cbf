// Train a small MNIST MLP, export it straight from memory as a 1-bit .bcnet file (and as ONNX),
// then run the file with binaryconnect/infer - the inference engine alone, with no training
// code, as a web page would - on raw pixels: the file holds the model's preprocessing.
//
//   node examples/export-and-infer.mjs                            # 20,000 images, 3 x 512 units, 5 epochs
//   TRAIN_IMAGES=3000 EPOCHS=2 node examples/export-and-infer.mjs        # quicker
// Environment: TRAIN_IMAGES, TEST_IMAGES (images used), UNITS, EPOCHS, OUT (the folder of model.bcnet and model.onnx), BACKEND.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as bc from "binaryconnect";
import { BinaryClassifier } from "binaryconnect/infer";

const env = (name, fallback) => process.env[name] ?? fallback;
const out = env("OUT", "runs/export-example"),
  units = Number(env("UNITS", 512));
const mnist = await bc.data.loadMnist();
const train = bc.data.sliceDataset(mnist.train, 0, Number(env("TRAIN_IMAGES", 20000)));
const test = bc.data.sliceDataset(mnist.test, 0, Number(env("TEST_IMAGES", mnist.test.n)));

// A hidden layer: dense with `units` units (binary weights, det, by default), batch norm, ReLU.
const hidden = () => [bc.layers.dense({ units }), bc.layers.batchNorm(), bc.layers.relu()];
const model = bc.sequential({
  inputShape: [28, 28, 1],
  backend: env("BACKEND", "auto"),
  layers: [
    bc.layers.flatten(),
    ...hidden(),
    ...hidden(),
    ...hidden(),
    bc.layers.dense({ units: 10 }),
    bc.layers.batchNorm(),
  ],
});
await model.fit(train, {
  epochs: Number(env("EPOCHS", 5)),
  batchSize: 100,
  validation: 1 / 6,
  preprocess: [bc.preprocess.scale(1 / 255), bc.preprocess.subtractMean()],
});

// Export: 1 bit per weight, batch norm folded into a scale and shift per unit, the preprocessing included.
mkdirSync(out, { recursive: true });
const bcnet = await model.exportBcnet();
writeFileSync(join(out, "model.bcnet"), bcnet);
writeFileSync(join(out, "model.onnx"), await model.exportOnnx());
console.log(
  `${join(out, "model.bcnet")}: ${bcnet.length} bytes (${model.summary().float32Bytes} as float32); ${join(out, "model.onnx")} written`,
);

// Inference from the file alone: raw pixels 0..255 in, classes and scores out.
const net = await BinaryClassifier.load(readFileSync(join(out, "model.bcnet")));
const pixels = Uint8Array.from(test.x); // n x 784 bytes, as images arrive
const { labels } = net.predict(pixels, test.n);
const reference = await model.predict(test, { testTime: "binary" }); // the training engine, binary weights
let wrong = 0,
  agree = 0;
for (let i = 0; i < test.n; i++) {
  if (labels[i] !== test.y[i]) wrong++;
  if (labels[i] === reference.labels[i]) agree++;
}
console.log(
  `binaryconnect/infer (${net.engine} engine): test error ${((100 * wrong) / test.n).toFixed(2)} % on ${test.n} images; the same class as the training engine for ${agree} of ${test.n}`,
);
const one = net.predict(pixels.subarray(0, 784));
console.log(
  `first test image: label ${test.y[0]}, predicted ${one.labels[0]}, scores ${[...one.scores].map((s) => s.toFixed(2)).join(" ")}`,
);
await model.dispose();
