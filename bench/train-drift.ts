/**
 * Whether a change of the wasm kernels changes training results, and by how much: cifar10-small's
 * network ((2x32C3)-MP2-(2x64C3)-MP2-(2x128C3)-MP2-(2x256FC)-10, binary det weights, the
 * benchmark's hyperparameters: bench/cnn-spec.ts) trained from the shared start for `--epochs`
 * passes over a synthetic 10-class set of 32x32x3 images (a class pattern plus noise, in a fixed
 * order, batch 50), then every parameter and buffer (W, batch norm's gamma, beta and running
 * statistics; Adam's moments are not included) written as float32 bytes. Usage (after `npm run build`):
 *
 *   node dist/bench/train-drift.js run --backend wasm --threads 2 --out a.f32      # prints the sha256 and the losses
 *   node dist/bench/train-drift.js compare a.f32 b.f32                             # max |a - b|, signs of W that differ
 *
 * `--winograd filter` or `none` switches the wasm backend's Winograd routes off (the products'
 * lookup tables and, with none, the direct filter gradient) to compare the routes.
 *
 * Run once with the kernels before a change and once after: the same sha256 is the same
 * training; otherwise compare both against a run on the reference backend (the specification).
 */
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { Command, Option } from "commander";
import { tensorFrom } from "../src/backends/backend.js";
import { createBackend, type BackendName } from "../src/backends/index.js";
import { filterGradientPaths } from "../src/backends/wasm/kernels/conv2dBackwardFilter.js";
import { convProductPaths } from "../src/backends/wasm/kernels/convWinogradProduct.js";
import type { SimdChoice } from "../src/backends/wasm/simd.js";
import { counterUniform, streamKey } from "../src/core/rng.js";
import { CIFAR10_SMALL_NET } from "../src/train/presets.js";
import { CNN_SPEC, cnnInitialState, createCnnNetwork, type CnnSpec } from "./cnn-spec.js";

const spec: CnnSpec = { ...CNN_SPEC, architecture: CIFAR10_SMALL_NET };
const program = new Command("train-drift");
program
  .command("run")
  .option("--backend <name>", "wasm or reference", "wasm")
  .option("--threads <n>", "threads of the wasm backend", "2")
  .option("--simd <mode>", "SIMD of the wasm backend: auto, relaxed or baseline", "auto")
  .option("--images <n>", "training images (a multiple of the batch, 50)", "1000")
  .option("--epochs <n>", "passes over the images", "2")
  .addOption(
    new Option("--winograd <which>", "the wasm routes by Winograd's F(4x4, 3x3): all, the filter gradient only, none")
      .choices(["all", "filter", "none"])
      .default("all"),
  )
  .requiredOption("--out <file>", "where to write the parameters (float32)")
  .action(run);
program
  .command("compare")
  .argument("<a>")
  .argument("<b>")
  .action((a: string, b: string) => compare(a, b));
await program.parseAsync();

async function run(o: {
  backend: string;
  threads: string;
  simd: string;
  images: string;
  epochs: string;
  winograd: "all" | "filter" | "none";
  out: string;
}) {
  convProductPaths.winograd = o.winograd === "all";
  filterGradientPaths.winograd = o.winograd !== "none";
  const backend = await createBackend(o.backend as BackendName, {
    threads: Number(o.threads),
    simd: o.simd as SimdChoice,
  });
  const net = createCnnNetwork(backend, spec, cnnInitialState(spec, spec.batch, 1));
  const [h, w, c] = spec.input,
    features = h * w * c,
    batch = spec.batch;
  const images = Number(o.images),
    steps = Math.floor(images / batch);
  const key = streamKey(7, 1);
  const pattern = (label: number, f: number) => Math.sin((label + 1) * 0.37 * f + label);
  const xs = new Float32Array(batch * features),
    ys = new Float32Array(batch);
  const x = tensorFrom(backend, [batch, h, w, c], xs),
    labels = tensorFrom(backend, [batch], ys),
    metrics = backend.alloc([2]);
  const losses: number[] = [];
  for (let epoch = 0; epoch < Number(o.epochs); epoch++) {
    for (let s = 0; s < steps; s++) {
      for (let m = 0; m < batch; m++) {
        const image = s * batch + m,
          label = image % spec.classes;
        ys[m] = label;
        for (let f = 0; f < features; f++)
          xs[m * features + f] = 0.5 * pattern(label, f) + counterUniform(key, image * features + f) - 0.5;
      }
      backend.upload(x, xs);
      backend.upload(labels, ys);
      backend.run("fill", { out: metrics, value: 0 });
      net.trainStep(x, labels, spec.lr, metrics);
      const [lossSum] = await backend.read(metrics);
      losses.push(lossSum / batch);
    }
  }
  const parts: Float32Array[] = [];
  for (const p of net.params()) parts.push(await backend.read(p.value));
  for (const b of net.buffers()) parts.push(await backend.read(b.tensor));
  const bytes = Buffer.concat(parts.map((p) => Buffer.from(p.buffer, p.byteOffset, p.byteLength)));
  writeFileSync(o.out, bytes);
  console.log(
    `${backend.description}: ${steps * Number(o.epochs)} steps, losses ${losses.map((l) => l.toFixed(5)).join(" ")}`,
  );
  console.log(`sha256 ${createHash("sha256").update(bytes).digest("hex")}  ${o.out} (${bytes.length} bytes)`);
  net.dispose();
  await backend.close();
}

function compare(a: string, b: string) {
  const fa = new Float32Array(new Uint8Array(readFileSync(a)).buffer),
    fb = new Float32Array(new Uint8Array(readFileSync(b)).buffer);
  const net = { weights: 0, signs: 0 };
  let maxDiff = 0,
    maxRel = 0,
    differ = 0;
  for (let i = 0; i < fa.length; i++) {
    const d = Math.abs(fa[i] - fb[i]);
    if (d > 0) differ++;
    maxDiff = Math.max(maxDiff, d);
    maxRel = Math.max(maxRel, d / Math.max(Math.abs(fb[i]), 1e-3));
    net.weights++;
    if (Math.sign(fa[i]) !== Math.sign(fb[i])) net.signs++;
  }
  console.log(
    `${fa.length} values: ${differ} differ, max |a - b| ${maxDiff.toExponential(3)}, max |a - b| / max(|b|, 1e-3) ${maxRel.toExponential(3)}, signs that differ ${net.signs}`,
  );
}
