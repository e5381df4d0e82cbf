/**
 * A run on the user's own data (the CLI's `train --csv FILE` / `--images DIR`): the source is
 * recorded in the run's configuration, so that `--resume`, `eval` and `export` read the same
 * data again. The training file is shuffled once with the run's seed (an image folder lists its
 * examples class by class), then its last `validation` fraction is held out; a test set is a
 * second file or folder of the same kind.
 */
import { statSync } from "node:fs";
import { DataFormatError, OptionError } from "../core/errors.js";
import { streamKey, Xoshiro128 } from "../core/rng.js";
import { type CsvOptions, firstRows, isNumber, looksLikeHeader, parseCsvTable } from "../data/csv.js";
import { readCsvBytes } from "../data/csvFile.js";
import { withTrainingClasses } from "../data/classes.js";
import { fromArrays, sliceDataset, type Dataset } from "../data/dataset.js";
import type { ImageExampleShape } from "../data/image.js";
import { loadImageFolder } from "../data/imageFolder.js";
import type { PreprocessSpec } from "../data/preprocessing.js";
import { errorText } from "../data/png.js";

/** The kinds of own data: a CSV file (one example a row), or a folder of one sub-folder per class. */
export type OwnDataKind = "csv" | "images";

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
  /** CSV: the field separator (absent: "," or, for a .tsv file, a tab). */
  delimiter?: string;
  /**
   * CSV: the training file's label column, counted from 0 (recorded when the run starts): a
   * second file without a header has its label there. (Its feature columns' names are the
   * run's featureNames.)
   */
  labelIndex?: number;
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

/** What a second set (a test set) must match: the training data's values per example and classes. */
export interface TrainingClasses {
  features: number;
  count: number;
  names?: readonly string[];
}

/**
 * Reads one file or folder of the kind. A second set (`expected`: the training data's) is read
 * as secondCsvOptions says, must have as many values per example, and is numbered as the
 * training data: its class names mapped to the training data's (it may hold some of them only).
 */
export async function readOwnData(
  kind: OwnDataKind,
  path: string,
  source: OwnDataReading,
  expected?: TrainingClasses,
): Promise<Dataset> {
  const { set } = await readSet(kind, path, source, expected !== undefined);
  if (!expected) return set;
  if (set.features !== expected.features)
    throw new DataFormatError(
      `${path}: ${set.features} values per example${kind === "csv" ? " (the columns besides the label)" : ""}; the training data has ${expected.features}`,
      kind === "csv" ? "a test set has the training data's columns, the label column included" : undefined,
    );
  return withTrainingClasses(set, expected, path);
}

/** How readOwnData reads a file or folder: its source's label, shape and delimiter, and the training file's columns. */
export type OwnDataReading = Pick<OwnDataSource, "label" | "shape" | "delimiter" | "labelIndex"> & TrainingColumns;

/** The training file's feature columns by name (its featureNames), where known. */
export interface TrainingColumns {
  columns?: readonly string[];
}

/** How a CSV training file was read (a model file's info `csv`): predict reads rows the same way. */
export type CsvReading = Pick<OwnDataSource, "label" | "delimiter" | "labelIndex"> & TrainingColumns;

/** What a CSV training file records in the run's source: its label's place. */
export type CsvLabelPlace = Pick<OwnDataSource, "labelIndex">;

/**
 * One file or folder of the kind; a CSV training file with what it records of its columns. A
 * second CSV file (`second`) is read as secondCsvOptions says.
 */
async function readSet(
  kind: OwnDataKind,
  path: string,
  source: OwnDataReading,
  second = false,
): Promise<{ set: Dataset; recorded?: CsvLabelPlace }> {
  checkPathKind(kind, path);
  if (kind === "images") return { set: await readImages(path, source) };
  const delimiter = csvDelimiter(source, path);
  const bytes = await readCsvBytes(path);
  const reading = second
    ? secondCsvOptions(...firstTwo(bytes, delimiter, path), source)
    : source.label !== undefined
      ? { label: source.label }
      : {};
  const { set, labelIndex } = parseCsvTable(
    bytes,
    { ...reading, ...(source.shape ? { shape: source.shape } : {}), delimiter },
    path,
  );
  return { set, recorded: { labelIndex } };
}

/** A CSV file's first row and the one after it (if any). */
function firstTwo(bytes: Uint8Array, delimiter: string, path: string): [string[], string[] | undefined] {
  const [first = [], next] = firstRows(bytes, delimiter, path);
  return [first, next];
}

/** A CSV file's field separator: the run's, else a tab for a .tsv file, else a comma. */
export function csvDelimiter(source: Pick<OwnDataSource, "delimiter">, path: string): string {
  return source.delimiter ?? (/\.tsv$/i.test(path) ? "\t" : ",");
}

/**
 * How a second CSV file (a test set, eval's --data, predict's rows) is read, from its first two
 * rows and the training file's record. It has a header when its first row holds the training's
 * label name, or all of its feature columns' names (one of them not a number), or looks like a
 * header (looksLikeHeader).
 * - A header, the training's feature columns known: those columns by name, in any order; the
 *   label by the training's label name where the header has it, else the one column left over.
 * - A header otherwise: the training's label (name or index), else the last column.
 * - No header: by position, the label where the training file had it (else the last column).
 */
export function secondCsvOptions(
  first: readonly string[],
  next: readonly string[] | undefined,
  training: Pick<OwnDataSource, "label" | "labelIndex"> & TrainingColumns,
): Pick<CsvOptions, "label" | "columns"> & { header: boolean } {
  const { label, columns, labelIndex } = training;
  const named = typeof label === "string" && first.includes(label);
  // feature names that are all numbers (pandas' 0, 1, 2, ...) could be a data row's values: content decides
  const byNames = !!columns && columns.some((n) => !isNumber(n)) && columns.every((n) => first.includes(n));
  const header = named || byNames || looksLikeHeader(first, next);
  if (!header) {
    const at = labelIndex ?? (typeof label === "number" ? label : undefined);
    return { header: false, ...(at !== undefined ? { label: at } : {}) };
  }
  if (columns) return { header: true, columns, ...(named ? { label } : {}) };
  return { header: true, ...(label !== undefined ? { label } : {}) };
}

function readImages(path: string, source: Pick<OwnDataSource, "shape">): Promise<Dataset> {
  if (source.shape?.length !== 3)
    throw new OptionError(
      `an image folder's examples need a shape [H, W, C], found ${source.shape ? `[${source.shape}]` : "none"}`,
      "give --shape, e.g. --shape 32x32x3 (C: 1 for gray, 3 for RGB)",
    );
  return loadImageFolder(path, { shape: source.shape as [number, number, number] as ImageExampleShape });
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
    throw new OptionError(
      `${path} is a folder, not a CSV file`,
      "a run on CSV data reads CSV files; folders of images train with `train --images DIR --shape HxWxC`",
    );
  if (kind === "images" && !folder)
    throw new OptionError(
      `${path} is a file, not a folder of images`,
      "a run on images reads folders with one sub-folder of images per class; CSV files train with `train --csv FILE`",
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
    ...(d.featureNames ? { featureNames: d.featureNames } : {}),
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

/**
 * Reads a run's own data: the shuffled training file split into train and validation, and the
 * test set if the run has one (a CSV test set read as secondCsvOptions says, by the training
 * set's featureNames), with what a CSV training file records of its columns.
 */
export async function ownDataSplits(
  kind: OwnDataKind,
  source: OwnDataSource,
  seed: number,
  trainPath = source.train,
): Promise<{ train: Dataset; validation: Dataset; test?: Dataset; recorded?: CsvLabelPlace }> {
  const { set: all, recorded } = await readSet(kind, trainPath, source);
  const splits = {
    ...splitValidation(shuffled(all, seed), source.validation, trainPath),
    ...(recorded ? { recorded } : {}),
  };
  if (!source.test) return splits;
  const reading = { ...source, ...recorded, ...(all.featureNames ? { columns: all.featureNames } : {}) };
  return { ...splits, test: await readOwnData(kind, source.test, reading, trainingClassesOf(all)) };
}

/** A training set's values per example and classes, as readOwnData takes them for a second set. */
function trainingClassesOf(d: Pick<Dataset, "features" | "classes" | "classNames">): TrainingClasses {
  return { features: d.features, count: d.classes, ...(d.classNames ? { names: d.classNames } : {}) };
}
