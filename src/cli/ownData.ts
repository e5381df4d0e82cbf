/**
 * `binaryconnect train`'s flags for the user's own data: --csv FILE or --images DIR, with
 * --test, --label, --shape, --validation and --preprocess. They become the run's OwnDataSource
 * (src/train/ownData.ts), which --resume, eval and export read back.
 */
import { existsSync } from "node:fs";
import { basename, dirname, extname, resolve } from "node:path";
import { InvalidArgumentError, Option } from "commander";
import { OptionError } from "../core/errors.js";
import type { PreprocessSpec } from "../data/preprocessing.js";
import { DEFAULT_VALIDATION, defaultPreprocess, type OwnDataKind, type OwnDataSource } from "../train/ownData.js";
import { path } from "./parse.js";

/** The own-data flags as commander parses them. */
export interface OwnDataCliOptions {
  csv?: string;
  images?: string;
  test?: string;
  label?: string | number;
  shape?: number[];
  validation?: number;
  preprocess?: PreprocessSpec[];
  delimiter?: string;
}

/** The flags that only apply to own data (an error with a preset's dataset). */
const OWN_DATA_ONLY = ["test", "label", "shape", "validation", "preprocess", "delimiter"] as const;

export function ownDataOptions(): Option[] {
  return [
    new Option(
      "--csv <file>",
      "train on a CSV file instead of the preset's dataset: one example a row, the label in one column (--label, default the last), every other column a number (.tsv: tab-separated)",
    )
      .argParser(path)
      .conflicts("images"),
    new Option(
      "--images <dir>",
      "train on a folder of images instead of the preset's dataset: one sub-folder per class (its name is the class), PNG or JPEG files, converted to --shape",
    ).argParser(path),
    new Option(
      "--test <path>",
      "with --csv or --images: a test set of the same kind (a CSV file, an image folder); its error is measured at each best validation epoch (default: none); with --resume: the test set's new place",
    ).argParser(path),
    new Option(
      "--label <column>",
      "with --csv: the label column, by header name or 0-based index (default: the last)",
    ).argParser(labelColumn),
    new Option(
      "--shape <HxWxC>",
      "the shape of one example: required with --images (e.g. 32x32x3; C = 1 gray, 3 RGB; HxW: one channel); with --csv, each row reshaped to an image (for convolutions)",
    ).argParser(parseShape),
    delimiterOption(),
    new Option(
      "--validation <fraction>",
      `with --csv or --images: the fraction of the shuffled training data held out for validation (default ${DEFAULT_VALIDATION})`,
    ).argParser(fraction),
    new Option(
      "--preprocess <steps>",
      'with --csv or --images: steps fitted on the training split, comma-separated: scale=F, subtract-mean, gcn, zca, lcn, or none (default: images "scale=1/255,subtract-mean", CSV "subtract-mean")',
    ).argParser(parsePreprocess),
  ];
}

/** --delimiter: a CSV's field separator; `usual` says where its default comes from (train, eval, predict). */
export function delimiterOption(usual = '"," or, for .tsv files, a tab'): Option {
  return new Option(
    "--delimiter <char>",
    `with CSV files: the field separator, e.g. ";" or "\\t" for a tab (default: ${usual})`,
  ).argParser((text: string) => {
    const d = text === "\\t" || text.toLowerCase() === "tab" ? "\t" : text;
    if (d.length !== 1) throw new InvalidArgumentError(`expected one character (or \\t for a tab), found "${text}"`);
    return d;
  });
}

/** Which own data the flags name, if any. */
export function ownDataKind(o: OwnDataCliOptions): OwnDataKind | undefined {
  return o.csv !== undefined ? "csv" : o.images !== undefined ? "images" : undefined;
}

/** The run's source from the flags (paths made absolute, so that the run folder can be used from anywhere). */
export function ownDataSource(kind: OwnDataKind, o: OwnDataCliOptions): OwnDataSource {
  if (kind === "images" && !o.shape)
    throw new OptionError(
      "--images needs --shape: the size every image is converted to",
      "e.g. --shape 32x32x3 (height x width x channels; 1 channel for gray, 3 for RGB)",
    );
  if (kind === "images" && (o.label !== undefined || o.delimiter !== undefined))
    throw new OptionError(
      `${o.label !== undefined ? "--label" : "--delimiter"} applies to CSV files; an image folder's classes are its sub-folders`,
    );
  return {
    train: resolve((kind === "csv" ? o.csv : o.images)!),
    ...(o.test !== undefined ? { test: resolve(o.test) } : {}),
    validation: o.validation ?? DEFAULT_VALIDATION,
    ...(o.label !== undefined ? { label: o.label } : {}),
    ...(o.shape ? { shape: o.shape } : {}),
    ...(o.delimiter !== undefined ? { delimiter: o.delimiter } : {}),
    preprocess: o.preprocess ?? defaultPreprocess(kind),
  };
}

/**
 * A recorded run's own data where it was recorded (or where --data / --test say it is now); a
 * clear error with the way out when a file or folder is not there (moved or deleted).
 */
export function checkOwnDataThere(source: OwnDataSource, command: "resume" | "eval", trainPath = source.train): void {
  const trainGone = command === "resume" && !existsSync(trainPath);
  const testGone = source.test !== undefined && !existsSync(source.test);
  if (command === "eval" && testGone)
    throw new OptionError(
      `the run's test set ${source.test} is not there`,
      "give a test set with --data PATH (its new place, if it moved)",
    );
  if (!trainGone && !testGone) return;
  const what = [trainGone ? `training data ${trainPath}` : "", testGone ? `test set ${source.test}` : ""].filter(
    Boolean,
  );
  const flags = [trainGone ? "--data PATH" : "", testGone ? "--test PATH" : ""].filter(Boolean).join(" ");
  throw new OptionError(
    `the run's ${what.join(" and its ")} ${what.length > 1 ? "are" : "is"} not there`,
    `if ${what.length > 1 ? "they" : "it"} moved, give the new place: train --resume DIR ${flags}`,
  );
}

/**
 * A paper dataset's data folder where the run recorded it (read with --data); else an error
 * naming --data for its new place, as the command takes it.
 */
export function checkDataFolderThere(dir: string, command: "resume" | "eval"): void {
  if (existsSync(dir)) return;
  throw new OptionError(
    `the run's data folder ${dir} is not there`,
    command === "resume"
      ? "if it moved, give its new place: train --resume DIR --data NEWDIR"
      : "give its new place with --data NEWDIR",
  );
}

/** The flags given that apply to own data only, when training on a preset's dataset. */
export function misplacedOwnDataFlags(o: OwnDataCliOptions): string[] {
  return OWN_DATA_ONLY.filter((key) => o[key] !== undefined).map((key) => `--${key}`);
}

/** Names that say which split a folder holds, not which data: the run is named after the folder above too. */
const SPLIT_NAMES = /^(train|training|trainset|train-set|train_set|data|dataset|images|all)$/i;

/** The default run folder's name for own data: the file's or folder's name ("pets-train" for pets/train). */
export function ownDataRunName(source: OwnDataSource): string {
  const name = basename(source.train, extname(source.train));
  const parent = basename(dirname(source.train));
  const full = SPLIT_NAMES.test(name) && parent ? `${parent}-${name}` : name;
  return full.replace(/[^A-Za-z0-9._-]+/g, "-") || "data";
}

/** A column: a 0-based index (negative from the end) or a header name. */
export function labelColumn(text: string): string | number {
  if (text.trim() === "") throw new InvalidArgumentError("expected a column name or index, found an empty string");
  return /^-?\d+$/.test(text.trim()) ? Number(text) : text;
}

/** "32x32x3" -> [32, 32, 3]; "784" -> [784]. */
export function parseShape(text: string): number[] {
  const parts = text.trim().split(/[x×,]/i);
  const dims = parts.map(Number);
  if (dims.length > 3 || dims.some((d, i) => parts[i].trim() === "" || !Number.isInteger(d) || d < 1))
    throw new InvalidArgumentError(
      `expected a shape such as 32x32x3 (height x width x channels) or 784, found "${text}"`,
    );
  if (dims.length === 2) dims.push(1);
  return dims;
}

/** A fraction strictly between 0 and 1. */
function fraction(text: string): number {
  const f = Number(text);
  if (!(text.trim() !== "" && f > 0 && f < 1))
    throw new InvalidArgumentError(`expected a fraction between 0 and 1 (e.g. 0.1), found "${text}"`);
  return f;
}

/** A number or a quotient "a/b" (scale=1/255). */
function numberOrQuotient(text: string): number {
  const [a, b, ...rest] = text.split("/");
  const value = b === undefined ? Number(a) : Number(a) / Number(b);
  return rest.length || a.trim() === "" || (b !== undefined && b.trim() === "") ? Number.NaN : value;
}

/** "scale=1/255,subtract-mean" -> the steps; "none" -> no step. */
export function parsePreprocess(text: string): PreprocessSpec[] {
  if (text.trim() === "none") return [];
  return text.split(",").map((raw) => {
    const step = raw.trim();
    const [name, value] = step.split("=");
    switch (name.toLowerCase()) {
      case "scale": {
        const factor = value === undefined ? Number.NaN : numberOrQuotient(value);
        if (!(Number.isFinite(factor) && factor !== 0))
          throw new InvalidArgumentError(`scale needs a factor, e.g. scale=1/255, found "${step}"`);
        return { kind: "scale", factor };
      }
      case "subtract-mean":
      case "subtractmean":
      case "mean":
        return { kind: "subtractMean" };
      case "gcn":
      case "zca":
      case "lcn":
        if (value !== undefined)
          throw new InvalidArgumentError(`${name} takes no value here (the library's defaults), found "${step}"`);
        return { kind: name.toLowerCase() as "gcn" | "zca" | "lcn" };
      default:
        throw new InvalidArgumentError(
          `expected steps among scale=F, subtract-mean, gcn, zca, lcn (comma-separated) or none, found "${step}"`,
        );
    }
  });
}
