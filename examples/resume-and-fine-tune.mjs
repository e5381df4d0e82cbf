// Exact resume and continued training:
//   1. a run with a checkpoint folder is interrupted in its second epoch (an AbortController; a
//      killed process is the same: the folder holds the state after every finished epoch),
//   2. the same program runs again and resumes from the folder, ending with exactly the numbers
//      and weights of an uninterrupted run,
//   3. the saved model is loaded and trained for more epochs.
//
//   node examples/resume-and-fine-tune.mjs                 # 12,000 MNIST images, 4 + 2 epochs
//   TRAIN_IMAGES=3000 node examples/resume-and-fine-tune.mjs      # quicker
// Environment: TRAIN_IMAGES, TEST_IMAGES (images used), EPOCHS, MORE (epochs added in step 3), RUN_DIR (its run folders and model file, emptied first), BACKEND.
import { rmSync } from "node:fs";
import { join } from "node:path";
import * as bc from "binaryconnect";

const env = (name, fallback) => process.env[name] ?? fallback;
const dir = env("RUN_DIR", "runs/resume-example"),
  epochs = Number(env("EPOCHS", 4)),
  more = Number(env("MORE", 2));
const mnist = await bc.data.loadMnist();
const train = bc.data.sliceDataset(mnist.train, 0, Number(env("TRAIN_IMAGES", 12000)));
const test = bc.data.sliceDataset(mnist.test, 0, Number(env("TEST_IMAGES", mnist.test.n)));

// The same code builds the same model: the seed fixes the initial weights and every random stream.
const build = () =>
  bc.sequential({
    inputShape: [28, 28, 1],
    backend: env("BACKEND", "auto"),
    seed: 1,
    layers: [
      bc.layers.flatten(),
      bc.layers.dense({ units: 512 }),
      bc.layers.batchNorm(),
      bc.layers.relu(),
      bc.layers.dense({ units: 512 }),
      bc.layers.batchNorm(),
      bc.layers.relu(),
      bc.layers.dense({ units: 10 }),
      bc.layers.batchNorm(),
    ],
  });
const options = {
  epochs,
  batchSize: 100,
  validation: 1 / 6,
  checkpointDir: join(dir, "run"),
  preprocess: [bc.preprocess.scale(1 / 255), bc.preprocess.subtractMean()],
};
const errors = (history) => history.epochs.map((r) => `${(100 * r.val_error).toFixed(2)} %`).join(", ");
rmSync(dir, { recursive: true, force: true });

// 1. Interrupt the run in its second epoch.
const first = build(),
  controller = new AbortController();
try {
  await first.fit(train, {
    ...options,
    signal: controller.signal,
    callbacks: {
      onBatchEnd: (batch, { batches }) => {
        if (first.training?.epochsDone === 1 && batch === Math.ceil(batches / 2))
          controller.abort(new Error(`stopped at step ${batch} of ${batches} of epoch 2`));
      },
    },
  });
} catch (e) {
  console.log(`1. interrupted: ${e.message}; the folder holds epoch ${first.training?.epochsDone}`);
}
await first.dispose();

// 2. Run the same code again: fit continues from the folder's last epoch.
const model = build();
const resumed = await model.fit(train, options);
console.log(
  `2. resumed: trained epochs ${resumed.trained.map((r) => r.epoch).join(", ")}; validation errors ${errors(resumed)}`,
);
const uninterrupted = build();
const full = await uninterrupted.fit(train, { ...options, checkpointDir: join(dir, "uninterrupted") });
const [a, b] = [await model.predict(test), await uninterrupted.predict(test)];
const same = errors(full) === errors(resumed) && a.scores.every((v, i) => v === b.scores[i]);
console.log(
  `   an uninterrupted run: validation errors ${errors(full)}; the same scores on the test set: ${same ? "yes" : "NO"}`,
);
await uninterrupted.dispose();

// 3. Save the model (weights, preprocessing, optimizer state, history), load it, train it longer.
const file = await model.save(join(dir, "model.bcmodel"));
await model.dispose();
const loaded = await bc.loadModel(file, { backend: env("BACKEND", "auto") });
const continued = await loaded.fit(train, { epochs: epochs + more, validation: 1 / 6 });
console.log(
  `3. ${file} continued: trained epochs ${continued.trained.map((r) => r.epoch).join(", ")}; best validation error ${(100 * continued.best.valError).toFixed(2)} % at epoch ${continued.best.epoch}`,
);
console.log(`test error ${(100 * (await loaded.evaluate(test)).error).toFixed(2)} %`);
await loaded.dispose();
