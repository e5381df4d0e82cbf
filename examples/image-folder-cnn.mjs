// A small binary-weight CNN on a folder of images, one sub-folder per class (PNG or JPEG):
//
//   node examples/image-folder-cnn.mjs DIR [--size 32] [--channels 3] [--epochs 10]
//   node examples/image-folder-cnn.mjs --synthetic     # first writes a tiny folder of PNG shapes (disc, horizontal and vertical bars) into a temp folder
//
// The images are resized to size x size, gray (--channels 1) or RGB (3). A fifth of them (shuffled)
// is the test set, a fifth of the rest validation. Options: --limit N (images per class),
// --out FILE (the model file), --backend, --per-class N (synthetic images per class).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { encode } from "fast-png"; // only to write the synthetic images (a dependency of binaryconnect)
import * as bc from "binaryconnect";

const { values: opts, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    synthetic: { type: "boolean", default: false },
    "per-class": { type: "string", default: "150" },
    size: { type: "string" },
    channels: { type: "string" },
    epochs: { type: "string", default: "10" },
    limit: { type: "string" },
    out: { type: "string", default: "runs/image-folder-cnn.bcmodel" },
    backend: { type: "string", default: "auto" },
  },
});
const dir = opts.synthetic ? writeSyntheticFolder(Number(opts["per-class"])) : positionals[0];
if (!dir) throw new Error("usage: image-folder-cnn.mjs DIR | --synthetic");
const size = Number(opts.size ?? (opts.synthetic ? 16 : 32)),
  channels = Number(opts.channels ?? 3);

const images = await bc.data.loadImageFolder(dir, {
  shape: [size, size, channels],
  ...(opts.limit ? { limit: Number(opts.limit) } : {}),
});
if (opts.synthetic) rmSync(dir, { recursive: true }); // the images are in memory now
console.log(
  `${dir}: ${images.n} images of ${images.classes} classes (${images.classNames.join(", ")}), ${images.skipped} other entries skipped`,
);
// The folder lists its images class by class: shuffle, then hold out the last fifth as the test set.
const all = shuffled(images, 1);
const nTest = Math.floor(all.n / 5);
const train = bc.data.sliceDataset(all, 0, all.n - nTest),
  test = bc.data.sliceDataset(all, all.n - nTest, nTest);

const model = bc.sequential({
  inputShape: [size, size, channels],
  backend: opts.backend,
  layers: [
    // or bc.fromArchitecture("(2x16C3)-MP2-(2x32C3)-MP2-64FC-3", ...)
    bc.layers.conv2d({ filters: 16, kernelSize: 3 }),
    bc.layers.maxPooling2d({ poolSize: 2 }),
    bc.layers.batchNorm(),
    bc.layers.relu(),
    bc.layers.conv2d({ filters: 32, kernelSize: 3 }),
    bc.layers.maxPooling2d({ poolSize: 2 }),
    bc.layers.batchNorm(),
    bc.layers.relu(),
    bc.layers.flatten(),
    bc.layers.dense({ units: 64 }),
    bc.layers.batchNorm(),
    bc.layers.relu(),
    bc.layers.dense({ units: images.classes }),
    bc.layers.batchNorm(),
  ],
});
console.log(`backend: ${(await model.backend()).description}`);
await model.fit(train, {
  epochs: Number(opts.epochs),
  batchSize: Math.min(20, Math.floor(train.n * 0.8)),
  validation: 0.2,
  preprocess: [bc.preprocess.scale(1 / 255), bc.preprocess.subtractMean()],
  callbacks: {
    onEpochEnd: (epoch, r) =>
      console.log(
        `epoch ${epoch}: train loss ${r.train_loss.toFixed(4)}, validation error ${(100 * r.val_error).toFixed(2)} %`,
      ),
  },
});
const { error } = await model.evaluate(test);
console.log(
  `test error ${(100 * error).toFixed(2)} % on ${test.n} images (chance: ${(100 * (1 - 1 / images.classes)).toFixed(2)} %)`,
);
const { labels } = await model.predict(bc.data.sliceDataset(test, 0, Math.min(5, test.n)));
console.log(
  `first test images: ${[...labels].map((k, i) => `${images.classNames[test.y[i]]} -> ${images.classNames[k]}`).join(", ")}`,
);
console.log(`saved ${await model.save(opts.out)}`);
await model.dispose();

/** The examples in a seeded random order (a new dataset). */
function shuffled(d, seed) {
  let s = seed;
  const random = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const order = [...Array(d.n).keys()];
  for (let i = d.n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  const x = new Float32Array(d.n * d.features),
    y = new Int32Array(d.n);
  order.forEach((from, to) => {
    x.set(d.x.subarray(from * d.features, (from + 1) * d.features), to * d.features);
    y[to] = d.y[from];
  });
  return bc.data.fromArrays({ x, y, shape: d.shape, classes: d.classes, classNames: d.classNames });
}

/** A temp folder with disc/, horizontal/ and vertical/ (bars): 24 x 24 RGB PNGs of one coloured shape each, of random size, place and colours. */
function writeSyntheticFolder(perClass) {
  const root = mkdtempSync(join(tmpdir(), "bc-shapes-"));
  let s = 7;
  const random = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const W = 24;
  const inside = {
    disc: (dx, dy, r) => dx * dx + dy * dy <= r * r * 0.5,
    horizontal: (dx, dy, r) => Math.abs(dx) <= r && Math.abs(dy) <= r * 0.25,
    vertical: (dx, dy, r) => Math.abs(dx) <= r * 0.25 && Math.abs(dy) <= r,
  };
  for (const [name, test] of Object.entries(inside)) {
    mkdirSync(join(root, name));
    for (let i = 0; i < perClass; i++) {
      const r = 5 + random() * 5,
        cx = r + random() * (W - 2 * r),
        cy = r + random() * (W - 2 * r);
      const fg = [0, 1, 2].map(() => 128 + random() * 127),
        bg = [0, 1, 2].map(() => random() * 80);
      const data = new Uint8Array(W * W * 3);
      for (let y = 0; y < W; y++)
        for (let x = 0; x < W; x++) {
          const colour = test(x + 0.5 - cx, y + 0.5 - cy, r) ? fg : bg;
          for (let c = 0; c < 3; c++)
            data[(y * W + x) * 3 + c] = Math.min(255, Math.max(0, colour[c] + (random() - 0.5) * 40));
        }
      writeFileSync(
        join(root, name, `${String(i).padStart(4, "0")}.png`),
        encode({ width: W, height: W, data, channels: 3, depth: 8 }),
      );
    }
  }
  return root;
}
