import { Command, Option } from "commander";
import { DataFormatError } from "../core/errors.js";
import { readIdxFile } from "../data/idx.js";
import { BinaryClassifier, decodeBcnet, type Prediction } from "../infer/index.js";
import { MNIST_IMAGE, readInputImages } from "./inputs.js";
import { oneOf } from "./parse.js";
import { readModelFile } from "./summary.js";

/** Options of `binaryconnect predict`, as parsed by commander. */
export interface PredictCliOptions {
  labels?: string;
  engine: "auto" | "wasm" | "js";
  json: boolean;
  allowLargeModels: boolean;
}

export function predictCommand(): Command {
  return new Command("predict")
    .description(
      "classify images with a .bcnet model: the class and per-class scores of each, or the error rate when labels are given",
    )
    .argument("<model>", "a .bcnet file written by `binaryconnect export`")
    .argument(
      "<inputs...>",
      "PNG images of the model's size (MNIST: 28 x 28, white digit on black; RGB for a model on 3 channels) and/or IDX image files (N x 28 x 28, or N x H x W x C; plain or .gz)",
    )
    .addOption(
      new Option(
        "--labels <file>",
        "an IDX labels file for all the inputs, in order: print the error rate instead of each image's scores",
      ),
    )
    .addOption(
      new Option(
        "--engine <name>",
        "auto (wasm SIMD where available), wasm, or js (the plain-loop reference, for checking: far slower)",
      )
        .default("auto")
        .argParser(oneOf(["auto", "wasm", "js"] as const)),
    )
    .option("--json", "print a JSON object (per image: name, class, scores; or the error rate) instead of text", false)
    .option(
      "--allow-large-models",
      'load a model whose work per image passes the format\'s compute bounds (docs/FORMAT.md, "Compute bounds"): only for a file you trust',
      false,
    )
    .action(async (modelPath: string, inputs: string[], o: PredictCliOptions) => {
      const model = decodeBcnet(readModelFile(modelPath), modelPath, { allowLargeCompute: o.allowLargeModels });
      const net = await BinaryClassifier.load(model, { engine: o.engine });
      const images = readInputImages(inputs, model.image ?? MNIST_IMAGE);
      if (images.pixels.length !== images.names.length * net.inputs) {
        throw new DataFormatError(
          `the model takes ${net.inputs} inputs per image; the images have ${images.pixels.length / images.names.length}`,
        );
      }
      // The labels before the work: a bad file fails at once.
      const labels = o.labels ? await readLabels(o.labels, images.names.length, net.classes) : null;
      const started = performance.now();
      const p = net.predict(images.pixels, images.names.length);
      const ms = performance.now() - started;
      if (labels) return printErrorRate(p, labels, o, ms, net.engine);
      if (o.json) {
        console.log(
          JSON.stringify({
            predictions: images.names.map((name, m) => ({
              name,
              class: p.labels[m],
              scores: Array.from(p.scores.subarray(m * p.classes, (m + 1) * p.classes)),
            })),
          }),
        );
        return;
      }
      images.names.forEach((name, m) => {
        const scores = Array.from(
          p.scores.subarray(m * p.classes, (m + 1) * p.classes),
          (s, k) => `${k}:${s.toFixed(3)}`,
        ).join(" ");
        console.log(`${name}: class ${p.labels[m]}  scores ${scores}`);
      });
    });
}

/** The labels of the `count` images: an IDX vector of `count` values, each a class of the model (0..classes-1). */
export async function readLabels(path: string, count: number, classes: number): Promise<Uint8Array> {
  const idx = await readIdxFile(path);
  if (idx.dims.length !== 1)
    throw new DataFormatError(
      `${path}: expected an IDX vector of labels, found dimensions ${idx.dims.join(" x ")}`,
      "pass a labels file such as t10k-labels-idx1-ubyte",
    );
  if (idx.dims[0] !== count)
    throw new DataFormatError(
      `${path} holds ${idx.dims[0]} labels for ${count} image${count === 1 ? "" : "s"}`,
      "give the labels of exactly the images passed, in the same order",
    );
  const bad = idx.data.findIndex((label) => label >= classes);
  if (bad >= 0) {
    throw new DataFormatError(
      `${path}: label ${idx.data[bad]} at index ${bad}; the model has ${classes} classes, so labels are 0..${classes - 1}`,
      "pass the labels file that belongs to these images and this model",
    );
  }
  return idx.data;
}

function printErrorRate(p: Prediction, labels: Uint8Array, o: PredictCliOptions, ms: number, engine: string): void {
  let errors = 0;
  for (let m = 0; m < p.count; m++) if (p.labels[m] !== labels[m]) errors++;
  if (o.json) {
    console.log(JSON.stringify({ images: p.count, errors, errorRate: errors / p.count }));
    return;
  }
  console.log(
    `error rate ${((100 * errors) / p.count).toFixed(2)}% (${errors} of ${p.count} images) in ${ms.toFixed(0)} ms (${engine} engine)`,
  );
}
