import { Command, Option } from "commander";
import { join } from "node:path";
import { DataFormatError, OptionError } from "../core/errors.js";
import { decodeImage } from "../data/image.js";
import { loadImageFolder } from "../data/imageFolder.js";
import { isFolder } from "../train/fsio.js";
import { withTrainingClasses } from "../data/classes.js";
import type { ImageShape } from "../format/shapes.js";
import { readIdxFile } from "../data/idx.js";
import { BinaryClassifier, decodeBcnet, type BcnetModel, type Prediction } from "../infer/index.js";
import { concatRows, csvReadingOf, isCsvPath, readInputCsv } from "./inputCsv.js";
import { MNIST_IMAGE, readInputImages, readRegularFile } from "./inputs.js";
import { delimiterOption, labelColumn } from "./ownData.js";
import { oneOf } from "./parse.js";
import { readModelFile } from "./summary.js";

/** Options of `binaryconnect predict`, as parsed by commander. */
export interface PredictCliOptions {
  resize: boolean;
  delimiter?: string;
  labels?: string;
  label?: string | number;
  engine: "auto" | "wasm" | "js";
  json: boolean;
  allowLargeModels: boolean;
}

export function predictCommand(): Command {
  return new Command("predict")
    .description(
      "classify images (or, for a model trained on a CSV, rows of numbers) with a .bcnet model: the class and per-class scores of each, or the error rate when labels are given",
    )
    .argument("<model>", "a .bcnet file written by `binaryconnect export`")
    .argument(
      "<inputs...>",
      "PNG images of the model's size (MNIST: 28 x 28, white digit on black; RGB for a model on 3 channels) and/or IDX image files (N x 28 x 28, or N x H x W x C; plain or .gz); or folders of one sub-folder of images per class, as train --images reads them (the error rate); or, for a model trained on a CSV, CSV files (.csv, .tsv) of its inputs, one example a row",
    )
    .addOption(
      new Option(
        "--labels <file>",
        "an IDX labels file for all the inputs, in order: print the error rate instead of each image's scores",
      ),
    )
    .addOption(
      new Option(
        "--label <column>",
        "CSV inputs: the label column, by header name or 0-based index (default: the one the training read, as the model file records it, else the last; where a row has one more value than the model's inputs)",
      ).argParser(labelColumn),
    )
    .addOption(
      new Option(
        "--engine <name>",
        "auto (wasm SIMD where available), wasm, or js (the plain-loop reference, for checking: far slower)",
      )
        .default("auto")
        .argParser(oneOf(["auto", "wasm", "js"] as const)),
    )
    .addOption(delimiterOption('the training\'s, as the model file records it; else "," or, for .tsv files, a tab'))
    .option(
      "--resize",
      "convert PNG and JPEG images of any size to the model's (bilinear, as `train --images` read its examples) instead of requiring its exact size",
      false,
    )
    .option(
      "--json",
      "print a JSON object instead of text: per input its name, class, scores (and its label, with the error rate, where labels are given)",
      false,
    )
    .option(
      "--allow-large-models",
      'load a model whose work per image passes the format\'s compute bounds (docs/FORMAT.md, "Compute bounds"): only for a file you trust',
      false,
    )
    .action(async (modelPath: string, inputs: string[], o: PredictCliOptions) => {
      const model = decodeBcnet(readModelFile(modelPath), modelPath, { allowLargeCompute: o.allowLargeModels });
      const net = await BinaryClassifier.load(model, { engine: o.engine });
      const input = await readInputs(inputs, model, net, o);
      const started = performance.now();
      const p = net.predict(input.values, input.names.length);
      const ms = performance.now() - started;
      const names = net.classNames;
      if (input.labels)
        return printErrorRate(p, input.labels, o, {
          ms,
          engine: net.engine,
          noun: input.noun,
          rows: input.names,
          names,
          ...(input.labelColumn ? { labelColumn: input.labelColumn } : {}),
        });
      if (o.json) {
        console.log(JSON.stringify({ predictions: predictionRecords(p, input.names, names) }));
        return;
      }
      input.names.forEach((name, m) => {
        const scores = Array.from(
          p.scores.subarray(m * p.classes, (m + 1) * p.classes),
          (s, k) => `${names ? names[k] : k}:${s.toFixed(3)}`,
        ).join(" ");
        console.log(`${name}: class ${p.labels[m]}${names ? ` (${names[p.labels[m]]})` : ""}  scores ${scores}`);
      });
    });
}

/**
 * The inputs to classify: images (PNG, IDX) as raw pixels, or CSV rows of the model's inputs
 * (their own label column, or --labels for images, gives the labels of the error rate).
 */
async function readInputs(
  paths: string[],
  model: BcnetModel,
  net: BinaryClassifier,
  o: PredictCliOptions,
): Promise<{
  values: ArrayLike<number>;
  names: string[];
  labels?: ArrayLike<number>;
  labelColumn?: string;
  noun: string;
}> {
  const csv = paths.filter(isCsvPath);
  if (csv.length > 0) {
    if (csv.length < paths.length)
      throw new OptionError("CSV inputs cannot be mixed with images", "classify them in separate calls");
    if (o.labels)
      throw new OptionError("--labels gives the labels of images; a CSV file's labels are its label column");
    const files = csv.map((path) => ({ path, bytes: readRegularFile(path, "pass CSV files of the model's inputs") }));
    const trained = csvReadingOf(model.info);
    return { ...readInputCsv(files, net, { label: o.label, delimiter: o.delimiter, trained }), noun: "rows" };
  }
  if (o.label !== undefined || o.delimiter !== undefined)
    throw new OptionError(
      `${o.label !== undefined ? "--label" : "--delimiter"} applies to CSV inputs; these inputs are images`,
    );
  if (!model.image && net.inputs !== MNIST_INPUTS)
    throw new OptionError(
      `this model takes rows of ${net.inputs} values, not images (it was trained on feature vectors, e.g. a CSV file)`,
      "pass CSV files (.csv, .tsv) of its inputs, one example a row",
    );
  const image = model.image ?? MNIST_IMAGE;
  const folders = paths.filter(isFolder);
  if (folders.length > 0) {
    if (folders.length < paths.length)
      throw new OptionError(
        "a folder of class sub-folders cannot be mixed with image files",
        "classify them in separate calls",
      );
    if (o.labels)
      throw new OptionError("--labels gives the labels of image files; a folder's labels are its sub-folders");
    return { ...(await labelledFolders(folders, image, net)), noun: "images" };
  }
  const images = o.resize ? resizedImages(paths, image) : readInputImages(paths, image);
  if (images.pixels.length !== images.names.length * net.inputs) {
    throw new DataFormatError(
      `the model takes ${net.inputs} inputs per image; the images have ${images.pixels.length / images.names.length}`,
    );
  }
  // The labels before the work: a bad file fails at once.
  const labels = o.labels ? await readLabels(o.labels, images.names.length, net.classes) : undefined;
  return { values: images.pixels, names: images.names, ...(labels ? { labels } : {}), noun: "images" };
}

/**
 * PNG and JPEG files converted to the model's channels and resized to its height and width, as
 * `train --images` (loadImageFolder) read its examples: values 0..255 (bilinear, so not whole).
 */
function resizedImages(paths: string[], image: ImageShape): { pixels: Float32Array; names: string[] } {
  const { height, width, channels } = image;
  if (channels !== 1 && channels !== 3)
    throw new OptionError(`--resize converts images to 1 or 3 channels; this model takes ${channels}`);
  const size = height * width * channels;
  const pixels = new Float32Array(paths.length * size);
  paths.forEach((path, i) => {
    decodeImage(path, readRegularFile(path, "pass PNG or JPEG images"), [height, width, channels], pixels, i * size);
  });
  return { pixels, names: paths };
}

/**
 * Folders of one sub-folder per class (as `train --images` reads them): every image converted
 * and resized to the model's, labelled by its sub-folder's name among the model's class names.
 */
async function labelledFolders(
  folders: string[],
  image: ImageShape,
  net: BinaryClassifier,
): Promise<{ values: Float32Array; names: string[]; labels: Int32Array }> {
  if (!net.classNames)
    throw new OptionError(
      "this model's file names no classes, so a folder's sub-folders cannot be matched to them",
      "classify the images as files, with --resize (and --labels for an IDX labels file)",
    );
  const expected = { count: net.classes, names: net.classNames };
  const sets = [];
  for (const dir of folders) {
    const read = await loadImageFolder(dir, { shape: [image.height, image.width, image.channels] });
    sets.push({ set: withTrainingClasses(read, expected, dir), files: read.files.map((f) => join(dir, f)) });
  }
  return {
    values: concatRows(sets.map((s) => s.set.x)),
    names: sets.flatMap((s) => s.files),
    labels: Int32Array.from(sets.flatMap((s) => Array.from(s.set.y))),
  };
}

/** Inputs of an MNIST MLP (version 1 files carry no image shape). */
const MNIST_INPUTS = 784;

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

/** Each input's prediction for --json: its name, class (and class name), scores, and its label where known. */
function predictionRecords(
  p: Prediction,
  rows: readonly string[],
  names?: readonly string[],
  labels?: ArrayLike<number>,
) {
  return rows.map((name, m) => ({
    name,
    class: p.labels[m],
    ...(names ? { className: names[p.labels[m]] } : {}),
    ...(labels ? { label: labels[m] } : {}),
    scores: Array.from(p.scores.subarray(m * p.classes, (m + 1) * p.classes)),
  }));
}

function printErrorRate(
  p: Prediction,
  labels: ArrayLike<number>,
  o: PredictCliOptions,
  run: {
    ms: number;
    engine: string;
    noun: string;
    rows: readonly string[];
    names?: readonly string[];
    labelColumn?: string;
  },
): void {
  const { ms, engine, noun } = run;
  let errors = 0;
  for (let m = 0; m < p.count; m++) if (p.labels[m] !== labels[m]) errors++;
  if (o.json) {
    const predictions = predictionRecords(p, run.rows, run.names, labels);
    console.log(JSON.stringify({ [noun]: p.count, errors, errorRate: errors / p.count, predictions }));
    return;
  }
  console.log(
    `error rate ${((100 * errors) / p.count).toFixed(2)}% (${errors} of ${p.count} ${noun}${run.labelColumn ? `, labels from ${run.labelColumn}` : ""}) in ${ms.toFixed(0)} ms (${engine} engine)`,
  );
}
