/**
 * A run on the user's own data (the CLI's `train --csv FILE` / `--images DIR`): the source is
 * recorded in the run's configuration, so that `--resume`, `eval` and `export` read the same
 * data again. The training file is shuffled once with the run's seed (an image folder lists its
 * examples class by class), then its last `validation` fraction is held out; a test set is a
 * second file or folder of the same kind.
 */
import { statSync } from "node:fs";
import { OptionError } from "../core/errors.js";
import { streamKey, Xoshiro128 } from "../core/rng.js";
import { loadCsv } from "../data/csvFile.js";
import { fromArrays, sliceDataset, type Dataset } from "../data/dataset.js";
import type { ImageExampleShape } from "../data/image.js";
import { loadImageFolder } from "../data/imageFolder.js";
import type { PreprocessSpec } from "../data/preprocessing.js";
import { errorText } from "../data/png.js";

/** The kinds of own data: a CSV file (one example a row), or a folder of one sub-folder per class. */
export type OwnDataKind = "csv" | "images";
export const OWN_DATA_KINDS: readonly OwnDataKind[] = ["csv", "images"];

/** Where a run's own data comes from and how it is read (stored in the run's configuration). */
export interface OwnDataSource {
  /** Absolute path of the training data. */
  train: string;
  /** Absolute path of the test set, of the same kind (absent: no test error is measured). */
  test?: string;
  /** The fraction of the shuffled training data held out as the validation split, in (0, 1). */
  validation: number;
  /** CSV: the label column, by header name or 0-based index (absent: the last column). */
  label?: string | number;
  /** The shape of one example: [H, W, C] for images (required); a CSV row's reshape (absent: [features]). */
  shape?: number[];
  /** Preprocessing fitted on the training split when the run starts. */
  preprocess: PreprocessSpec[];
}

/** The default held-out fraction. */
export const DEFAULT_VALIDATION = 0.1;

/** The preprocessing a run of each kind fits by default: pixels to [0, 1] minus their mean; a CSV's features minus their mean. */
export function defaultPreprocess(kind: OwnDataKind): PreprocessSpec[] {
  return kind === "images"
    ? [{ kind: "scale", factor: 1 / 255 }, { kind: "subtractMean" }]
    : [{ kind: "subtractMean" }];
}

/** The seeded stream of the split's shuffle (apart from the weights' and the batches'). */
const SPLIT_STREAM = 0x5eed5;

/** Reads one file or folder of the kind, with the training data's classes where known (a test set then numbers them alike). */
export async function readOwnData(
  kind: OwnDataKind,
  path: string,
  source: Pick<OwnDataSource, "label" | "shape">,
  classes?: { count: number; names?: readonly string[] },
): Promise<Dataset> {
  checkPathKind(kind, path);
  if (kind === "csv") {
    return loadCsv(path, {
      ...(source.label !== undefined ? { label: source.label } : {}),
      ...(source.shape ? { shape: source.shape } : {}),
      ...(classes ? { classes: classes.names ?? classes.count } : {}),
      ...(/\.tsv$/i.test(path) ? { delimiter: "\t" } : {}),
    });
  }
  if (source.shape?.length !== 3)
    throw new OptionError(
      `an image folder's examples need a shape [H, W, C], found ${source.shape ? `[${source.shape}]` : "none"}`,
      "give --shape, e.g. --shape 32x32x3 (C: 1 for gray, 3 for RGB)",
    );
  return loadImageFolder(path, {
    shape: source.shape as [number, number, number] as ImageExampleShape,
    ...(classes?.names ? { classes: classes.names } : {}),
  });
}

/** A CSV must be a file and an image folder a folder; a clear error otherwise. */
function checkPathKind(kind: OwnDataKind, path: string): void {
  let folder: boolean;
  try {
    folder = statSync(path).isDirectory();
  } catch (e) {
    throw new OptionError(
      `cannot read ${path}: ${errorText(e)}`,
      kind === "csv" ? "pass the path of a CSV file" : "pass a folder with one sub-folder of images per class",
    );
  }
  if (kind === "csv" && folder)
    throw new OptionError(`${path} is a folder, not a CSV file`, "for a folder of images use --images (and --shape)");
  if (kind === "images" && !folder)
    throw new OptionError(
      `${path} is a file, not a folder of images`,
      "pass a folder with one sub-folder of images per class (for a CSV file use --csv)",
    );
}

/** The examples in an order drawn from the seed (a copy; the same seed gives the same order). */
export function shuffled(d: Dataset, seed: number): Dataset {
  const order = Array.from({ length: d.n }, (_, i) => i);
  new Xoshiro128(streamKey(seed, SPLIT_STREAM)).shuffle(order);
  const f = d.features;
  const x = new Float32Array(d.n * f),
    y = new Float32Array(d.n);
  order.forEach((from, to) => {
    x.set(d.x.subarray(from * f, (from + 1) * f), to * f);
    y[to] = d.y[from];
  });
  return fromArrays({
    x,
    y,
    shape: d.shape,
    classes: d.classes,
    ...(d.classNames ? { classNames: d.classNames } : {}),
  });
}

/** The training data's split: train first, then the last `fraction` (at least one example each) as validation. */
export function splitValidation(d: Dataset, fraction: number, path: string): { train: Dataset; validation: Dataset } {
  const held = Math.round(d.n * fraction);
  if (held < 1 || held >= d.n)
    throw new OptionError(
      `${path}: ${d.n} example${d.n === 1 ? "" : "s"} cannot be split into training and a validation fraction of ${fraction} (${held} held out)`,
      "give more examples, or another --validation fraction",
    );
  return { train: sliceDataset(d, 0, d.n - held), validation: sliceDataset(d, d.n - held, held) };
}

/** Reads a run's own data: the shuffled training file split into train and validation, and the test set if the run has one. */
export async function ownDataSplits(
  kind: OwnDataKind,
  source: OwnDataSource,
  seed: number,
  trainPath = source.train,
): Promise<{ train: Dataset; validation: Dataset; test?: Dataset }> {
  const all = await readOwnData(kind, trainPath, source);
  const splits = splitValidation(shuffled(all, seed), source.validation, trainPath);
  if (!source.test) return splits;
  return { ...splits, test: await readOwnData(kind, source.test, source, classesOf(all)) };
}

/** A dataset's classes, as readOwnData takes them for a second set. */
export function classesOf(d: Pick<Dataset, "classes" | "classNames">): { count: number; names?: readonly string[] } {
  return { count: d.classes, ...(d.classNames ? { names: d.classNames } : {}) };
}
