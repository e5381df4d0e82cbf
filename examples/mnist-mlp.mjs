// BinaryConnect's MNIST MLP (the paper's permutation-invariant network): binary weights during
// propagation, the paper's preprocessing (pixels / 255 minus the per-pixel training mean) and
// validation split (the last sixth of the 60,000 training images), saved with its preprocessing.
//
//   node examples/mnist-mlp.mjs                                  # 60,000 images, 3 x 1024 units, 20 epochs
//   TRAIN_IMAGES=2000 UNITS=256 EPOCHS=1 node examples/mnist-mlp.mjs    # a quick run (seconds)
// Environment: TRAIN_IMAGES, TEST_IMAGES (images used), UNITS, EPOCHS, BACKEND (auto|wasm|webgpu|reference), OUT (the model file).
import * as bc from "binaryconnect";

const env = (name, fallback) => process.env[name] ?? fallback;
const units = Number(env("UNITS", 1024));

const { train, test } = await bc.data.loadMnist(); // raw pixels 0..255, [28, 28, 1]
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
console.log(model.summary().toString());
console.log(`backend: ${(await model.backend()).description}`);

await model.fit(bc.data.sliceDataset(train, 0, Number(env("TRAIN_IMAGES", train.n))), {
  epochs: Number(env("EPOCHS", 20)),
  batchSize: 200,
  validation: 1 / 6,
  preprocess: [bc.preprocess.scale(1 / 255), bc.preprocess.subtractMean()],
  callbacks: {
    onEpochEnd: (epoch, r) =>
      console.log(
        `epoch ${epoch}: train loss ${r.train_loss.toFixed(4)}, validation error ${(100 * r.val_error).toFixed(2)} %`,
      ),
  },
});
const { error } = await model.evaluate(bc.data.sliceDataset(test, 0, Number(env("TEST_IMAGES", test.n))));
console.log(`test error ${(100 * error).toFixed(2)} %`);
console.log(`saved ${await model.save(env("OUT", "runs/mnist-mlp.bcmodel"))}`);
await model.dispose();
