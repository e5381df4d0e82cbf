/**
 * CSV inputs of `binaryconnect predict` for a model trained on feature vectors (`train --csv`):
 * each row holds the model's inputs, optionally with one more column, the label (named by
 * --label, else the last), which turns the output into the error rate. A file is read as a test
 * set of the training is (secondCsvOptions): where the model records its training set's feature
 * names, a header's columns are found by them, in any order (the label: the training's label name,
 * else the one column left over); a file without a header is read by position, its label where
 * the training file had it.
 */
import { basename } from "node:path";
import { parse } from "csv-parse/sync";
import { DataFormatError, OptionError } from "../core/errors.js";
import { columnText, delimiterName, isNumber, parseCsvTable, quotedList } from "../data/csv.js";
import type { Dataset } from "../data/dataset.js";
import { errorText } from "../data/png.js";
import { withTrainingClasses } from "../data/classes.js";
import { type CsvReading, secondCsvOptions } from "../train/ownData.js";

/** The info's `csv` where it is well formed (a file's info is the producer's free JSON). */
export function csvReadingOf(info: Record<string, unknown>): CsvReading {
  const csv = info.csv as Record<string, unknown> | undefined;
  if (typeof csv !== "object" || csv === null) return {};
  const { label, delimiter, columns, labelIndex } = csv;
  return {
    ...(typeof label === "string" || (typeof label === "number" && Number.isInteger(label)) ? { label } : {}),
    ...(typeof delimiter === "string" && delimiter.length === 1 ? { delimiter } : {}),
    ...(Array.isArray(columns) && columns.length > 0 && columns.every((c) => typeof c === "string") ? { columns } : {}),
    ...(typeof labelIndex === "number" && Number.isInteger(labelIndex) && labelIndex >= 0 ? { labelIndex } : {}),
  };
}

/** The rows of one or more CSV files: inputs row after row, a name per row, and labels where the files have them. */
export interface InputRows {
  values: Float32Array;
  names: string[];
  /** Each row's class (0..classes-1), where the files have a label column. */
  labels?: Int32Array;
  /** Where the labels were read: "column index 1 ("kind")", where every file had them in the same column. */
  labelColumn?: string;
}

/** A path predict reads as CSV. */
export function isCsvPath(path: string): boolean {
  return /\.(csv|tsv)$/i.test(path);
}

/** Reads CSV files of rows for a model of `inputs` inputs (see the module's comment); all labelled, or none. */
export function readInputCsv(
  files: { path: string; bytes: Uint8Array }[],
  model: { inputs: number; classes: number; classNames?: readonly string[] },
  options: { label?: string | number; delimiter?: string; trained?: CsvReading } = {},
): InputRows {
  const parts = files.map((f) => readOne(f.path, f.bytes, model, options));
  const labelled = parts.filter((p) => p.labels).length;
  if (labelled > 0 && labelled < parts.length)
    throw new DataFormatError(
      "some CSV inputs have a label column and others do not",
      "pass labelled files and unlabelled ones in separate calls",
    );
  return {
    values: concatRows(parts.map((p) => p.values)),
    names: parts.flatMap((p) => p.names),
    ...(new Set(parts.map((p) => p.labelColumn)).size === 1 && parts[0].labelColumn
      ? { labelColumn: parts[0].labelColumn }
      : {}),
    ...(labelled ? { labels: Int32Array.from(parts.flatMap((p) => Array.from(p.labels!))) } : {}),
  };
}

function readOne(
  path: string,
  bytes: Uint8Array,
  model: { inputs: number; classes: number; classNames?: readonly string[] },
  {
    label: given,
    trained = {},
    delimiter = trained.delimiter ?? (/\.tsv$/i.test(path) ? "\t" : ","),
  }: { label?: string | number; delimiter?: string; trained?: CsvReading },
): InputRows {
  let rows: string[][];
  try {
    rows = parse(new TextDecoder("utf-8").decode(bytes), { delimiter, bom: true, trim: true, skip_empty_lines: true });
  } catch (e) {
    throw new DataFormatError(`${path}: expected well-formed CSV, found: ${errorText(e)}`);
  }
  if (rows.length === 0) throw new DataFormatError(`${path}: expected rows of values, found none`);
  const width = rows[0].length;
  // a header, and the label's column, as a test set of the training is read
  const { header, label: trainedLabel } = secondCsvOptions(rows[0], rows[1], trained);
  if (header && trained.columns?.length === model.inputs)
    return readByName(path, bytes, rows, trained.columns, model, { delimiter, label: given ?? trainedLabel });
  // a row with the label: the label column given, else the training's (its model file records it), else the last
  const labelled = width === model.inputs + 1 || (given !== undefined && width > model.inputs);
  const label = given ?? (labelled ? trainedLabel : undefined);
  if (labelled) {
    // a label column: class names mapped to the model's (or whole numbers, its class indices)
    return labelledRows(parseLabelled(bytes, path, { delimiter, header, label }, header ? rows[0] : null), path, model);
  }
  if (label !== undefined)
    throw new OptionError(
      `${path}: --label ${label}, but the rows have ${width} columns: the model's ${model.inputs} inputs and no label`,
    );
  if (width !== model.inputs)
    throw new DataFormatError(
      `${path}: expected ${model.inputs} numbers a row (the model's inputs), or ${model.inputs + 1} with a label column; found ${width} column${width === 1 ? "" : "s"}`,
      width === 1
        ? `if the fields are separated by something other than ${delimiterName(delimiter)}, give --delimiter`
        : "give the same feature columns the model was trained on, in the same order",
    );
  // rows of numbers only: a first row with anything else names the columns
  const order = [...Array(width).keys()];
  return numberRows(path, header ? rows.slice(1) : rows, order, header ? rows[0] : null);
}

/**
 * The rows of a file with a header, for a model that records its feature columns' names: those
 * columns found by name, in the model's order; a column left over is the label (as `label`).
 */
function readByName(
  path: string,
  bytes: Uint8Array,
  rows: string[][],
  columns: readonly string[],
  model: { inputs: number; classes: number; classNames?: readonly string[] },
  { delimiter, label }: { delimiter: string; label?: string | number },
): InputRows {
  const names = rows[0];
  const missing = columns.filter((n) => !names.includes(n));
  if (missing.length > 0)
    throw new DataFormatError(
      `${path}: expected the model's feature columns by name (${quotedList(columns)}), found no column named ${quotedList(missing)}`,
      `the file's header: ${quotedList(names)}`,
    );
  if (label === undefined && names.length === columns.length)
    return numberRows(
      path,
      rows.slice(1),
      columns.map((n) => names.indexOf(n)),
      names,
    );
  return labelledRows(parseLabelled(bytes, path, { delimiter, header: true, label, columns }, names), path, model);
}

/** The numbers of `data`'s columns `order` (row after row), with the header's `names` in messages. */
function numberRows(
  path: string,
  data: string[][],
  order: readonly number[],
  names: readonly string[] | null,
): InputRows {
  if (data.length === 0) throw new DataFormatError(`${path}: expected data rows after the header, found none`);
  const values = new Float32Array(data.length * order.length);
  data.forEach((row, r) => {
    order.forEach((c, k) => {
      const cell = row[c];
      if (!isNumber(cell))
        throw new DataFormatError(
          `${path}: data row ${r + 1}, ${columnText(c, names)}: expected a number, found ${JSON.stringify(cell)}`,
        );
      values[r * order.length + k] = Number(cell);
    });
  });
  return { values, names: rowNames(basename(path), data.length) };
}

/** A labelled file's rows: its inputs, and its labels numbered by the model's classes. */
function labelledRows(
  { set: parsed, labelColumn }: { set: Dataset; labelColumn: string },
  path: string,
  model: { inputs: number; classes: number; classNames?: readonly string[] },
): InputRows {
  if (parsed.features !== model.inputs)
    throw new DataFormatError(
      `${path}: ${parsed.features} feature columns besides the label; the model takes ${model.inputs}`,
    );
  const set = withTrainingClasses(
    parsed,
    { count: model.classes, ...(model.classNames ? { names: model.classNames } : {}) },
    path,
  );
  return { values: set.x, names: rowNames(basename(path), set.n), labels: Int32Array.from(set.y), labelColumn };
}

/**
 * A CSV with a label column (the library's reader), and where its label was (`names`: the
 * header's); a number expected where the label is: the hint names --label.
 */
function parseLabelled(
  bytes: Uint8Array,
  path: string,
  options: { delimiter: string; header: boolean; label?: string | number; columns?: readonly string[] },
  names: readonly string[] | null,
): { set: Dataset; labelColumn: string } {
  const { label, columns, ...rest } = options;
  try {
    const read = { ...rest, ...(label !== undefined ? { label } : {}), ...(columns ? { columns } : {}) };
    const { set, labelIndex } = parseCsvTable(bytes, read, path);
    return { set, labelColumn: columnText(labelIndex, names) };
  } catch (e) {
    if (label === undefined && e instanceof DataFormatError && e.message.includes("expected a number"))
      throw new DataFormatError(
        e.message,
        "the label is read from the last column: if it is another one, give --label (its name or 0-based index)",
      );
    throw e;
  }
}

/** Arrays of rows one after another, in one array (predict's inputs from several files). */
export function concatRows(parts: readonly Float32Array[]): Float32Array {
  const values = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    values.set(p, at);
    at += p.length;
  }
  return values;
}

/** "file.csv[0]", "file.csv[1]", ... */
function rowNames(file: string, n: number): string[] {
  return Array.from({ length: n }, (_, i) => `${file}[${i}]`);
}
