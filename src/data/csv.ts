/**
 * Feature vectors from CSV: one example a row, one column the class label, every other column a
 * number. Parsed by csv-parse (RFC 4180: quoted fields, embedded delimiters and newlines, a UTF-8
 * BOM; blank lines skipped, fields trimmed). `parseCsv` is browser-safe (csv-parse's browser
 * build, no node: imports); `loadCsv` (csvFile.ts) reads the file in Node.js.
 *
 *   sepal_length,sepal_width,species        ->  x: n x 2 numbers, y: 0..2,
 *   5.1,3.5,setosa                              classNames ["setosa", "versicolor", "virginica"]
 */
import { parse } from "csv-parse/browser/esm/sync";
import { DataFormatError, OptionError, ShapeError } from "../core/errors.js";
import { fromArrays, type Dataset } from "./dataset.js";
import { errorText } from "./png.js";

export interface CsvOptions {
  /**
   * The label column: its name in the header, or its 0-based index (negative: from the end,
   * -1 = the last). Default: the last column.
   */
  label?: string | number;
  /** The shape of one example (its product = the number of feature columns). Default: [features]. */
  shape?: readonly number[];
  /**
   * Whether the first row names the columns. "auto" (default): it does when a label name is
   * given, or when one of its cells is not a number while the cell under it is (a single row:
   * when none of its cells is a number).
   */
  header?: boolean | "auto";
  /**
   * Labels that are all non-negative integers are class indices; `classes` may then give their
   * number (default: the largest + 1). Any other labels are class names, labelled in sorted
   * order; `classes` as a list of names gives that order instead (every label must be one).
   */
  classes?: number | readonly string[];
  /** The field separator (default ","; "\t" for TSV, ";" for some locales). */
  delimiter?: string;
  /**
   * The feature columns by header name, in the order the examples take them (e.g. the columns a
   * model was trained on): a file with a header is read by these names, whatever the order of
   * its columns. Without `label`, the one column left over is the label. A name the header lacks,
   * or a column that is neither one of them nor the label, is an error. A file without a header
   * is read in its own column order.
   */
  columns?: readonly string[];
}

const KEYS = ["label", "shape", "header", "classes", "delimiter", "columns"];

/** A CSV file read: its dataset, its feature columns' names in the examples' order (null without a header), its label's column. */
export interface CsvTable {
  readonly set: Dataset;
  readonly featureNames: readonly string[] | null;
  /** The label's column, counted from 0 in the file. */
  readonly labelIndex: number;
}

/** A row as parsed: its cells and the line of the file it starts on. */
interface Row {
  readonly cells: readonly string[];
  readonly line: number;
}

/** A decimal number: "3", "-0.5", ".5", "1e-3", "+2." (not JavaScript's "0x10", "0b1", "Infinity" or ""). */
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

/** True when the (trimmed) cell is a finite decimal number. */
export function isNumber(cell: string): boolean {
  return DECIMAL.test(cell.trim()) && Number.isFinite(Number(cell));
}

/**
 * Parses CSV text (or its UTF-8 bytes) to a dataset: x is n x features float32 (row-major, the
 * feature columns in file order, or in the order of `columns`), y the class index of each row (see CsvOptions). `source`
 * names the text in errors. DataFormatError: malformed CSV, rows of different lengths, no data
 * rows, a feature cell that is not a number or an empty label (naming line, row and column).
 */
export function parseCsv(text: string | Uint8Array, opts: CsvOptions = {}, source = "CSV"): Dataset {
  return parseCsvTable(text, opts, source).set;
}

/** parseCsv's dataset, and the names of its feature columns (see CsvTable). */
export function parseCsvTable(text: string | Uint8Array, opts: CsvOptions = {}, source = "CSV"): CsvTable {
  checkOptions(opts, source);
  const rows = parseRows(text, opts.delimiter ?? ",", source);
  if (rows.length === 0) throw new DataFormatError(`${source}: expected rows of comma-separated values, found none`);
  const width = rows[0].cells.length;
  if (width < 2)
    throw new DataFormatError(
      `${source}: expected at least 2 columns (features and a label), found ${width}`,
      `if the fields are not separated by ${delimiterName(opts.delimiter ?? ",")}, pass delimiter (--delimiter on the command line; found line 1: ${JSON.stringify(rows[0].cells.join(""))})`,
    );
  const header = hasHeader(rows, opts);
  const names = header ? rows[0].cells : null;
  const data = header ? rows.slice(1) : rows;
  if (data.length === 0) throw new DataFormatError(`${source}: expected data rows after the header, found none`);
  const { labelCol, featureCols } =
    opts.columns && names
      ? columnsByName(opts.columns, names, opts.label, source)
      : columnsInOrder(opts.label, names, width, source);
  const shape = opts.shape ? [...opts.shape] : [featureCols.length];
  const features = shape.reduce((a, b) => a * b, 1);
  if (features !== featureCols.length) {
    throw new ShapeError(
      `${source}: shape [${shape}] needs ${features} feature columns, found ${featureCols.length} (${width} columns minus the label)`,
      "pass a shape whose product is the number of feature columns, or none",
    );
  }
  const where = (r: number, c: number) => `line ${data[r].line} (data row ${r + 1}), ${columnText(c, names)}`;
  const x = new Float32Array(data.length * features);
  data.forEach((row, r) => {
    featureCols.forEach((c, k) => {
      const cell = row.cells[c];
      if (!isNumber(cell))
        throw new DataFormatError(
          `${source}: ${where(r, c)}: expected a number, found ${JSON.stringify(cell)}`,
          "every column but the label must hold numbers; encode categorical features as numbers first",
        );
      x[r * features + k] = Number(cell);
    });
  });
  const labels = data.map((row) => row.cells[labelCol]);
  const empty = labels.indexOf("");
  if (empty >= 0)
    throw new DataFormatError(`${source}: ${where(empty, labelCol)}: expected a label, found an empty cell`);
  const featureNames = names ? featureCols.map((c) => names[c]) : null;
  // the dataset names its features where the header tells them apart
  const distinct = featureNames && new Set(featureNames).size === featureNames.length ? { featureNames } : {};
  const set = fromArrays({
    x,
    shape,
    ...labelsOf(labels, opts.classes, (r) => where(r, labelCol), source),
    ...distinct,
  });
  return { set, featureNames, labelIndex: labelCol };
}

/** A separator as messages name it: "commas", "tabs", or the character quoted. */
export function delimiterName(d: string): string {
  return d === "," ? "commas" : d === "\t" ? "tabs" : JSON.stringify(d);
}

/** "column index 2 ("petal_width")": counted from 0, as the label option counts. */
export function columnText(c: number, names: readonly string[] | null): string {
  return `column index ${c}${names ? ` (${JSON.stringify(names[c])})` : ""}`;
}

/** The label column (label, else the last) and the others, in file order. */
function columnsInOrder(
  label: string | number | undefined,
  names: readonly string[] | null,
  width: number,
  source: string,
): { labelCol: number; featureCols: number[] } {
  const labelCol = labelColumn(label, names, width, source);
  return { labelCol, featureCols: [...Array(width).keys()].filter((c) => c !== labelCol) };
}

/**
 * The feature columns found by their names in the header, in the order of `columns`; the label
 * column (label, else the one column left over). Missing names and columns that are neither are errors.
 */
function columnsByName(
  columns: readonly string[],
  names: readonly string[],
  label: string | number | undefined,
  source: string,
): { labelCol: number; featureCols: number[] } {
  const twice = columns.find((n) => names.indexOf(n) !== names.lastIndexOf(n));
  if (twice !== undefined)
    throw new DataFormatError(
      `${source}: the header names the column ${JSON.stringify(twice)} twice`,
      "give each column its own name",
    );
  const featureCols = columns.map((n) => names.indexOf(n));
  const missing = columns.filter((_, k) => featureCols[k] < 0);
  if (missing.length > 0)
    throw new DataFormatError(
      `${source}: expected the feature columns ${quotedList(columns)}, found no column named ${quotedList(missing)}`,
      `the file's header: ${quotedList(names)}`,
    );
  const left = [...names.keys()].filter((c) => !featureCols.includes(c));
  const labelCol =
    label !== undefined ? labelColumn(label, names, names.length, source) : left.length === 1 ? left[0] : -1;
  if (featureCols.includes(labelCol))
    throw new OptionError(`${source}: the label ${columnText(labelCol, names)} is one of the feature columns`);
  const others = left.filter((c) => c !== labelCol);
  if (labelCol < 0 && others.length === 0)
    throw new DataFormatError(
      `${source}: expected a label column besides the feature columns ${quotedList(columns)}, found none`,
    );
  if (labelCol < 0 || others.length > 0)
    throw new DataFormatError(
      `${source}: expected the feature columns ${quotedList(columns)} and a label, found also ${quotedList(others.map((c) => names[c]))}`,
      labelCol < 0
        ? "name the label column (label), and remove the other columns"
        : "remove the columns that are neither features nor the label",
    );
  return { labelCol, featureCols };
}

/** Names quoted and joined, the first 12 of a long list. */
export function quotedList(names: readonly string[]): string {
  return (
    names
      .slice(0, 12)
      .map((n) => JSON.stringify(n))
      .join(", ") + (names.length > 12 ? `, ... (${names.length} in all)` : "")
  );
}

function checkOptions(opts: CsvOptions, source: string): void {
  for (const key of Object.keys(opts)) {
    if (!KEYS.includes(key))
      throw new OptionError(`${source}: unknown CSV option "${key}"`, `known options: ${KEYS.join(", ")}`);
  }
  if (opts.header !== undefined && opts.header !== true && opts.header !== false && opts.header !== "auto") {
    throw new OptionError(
      `${source}: expected header to be true, false or "auto", found ${JSON.stringify(opts.header)}`,
    );
  }
  if (
    opts.columns !== undefined &&
    (!Array.isArray(opts.columns) ||
      opts.columns.length === 0 ||
      opts.columns.some((c) => typeof c !== "string") ||
      new Set(opts.columns).size !== opts.columns.length)
  )
    throw new OptionError(
      `${source}: expected columns to be a list of distinct column names, found ${JSON.stringify(opts.columns)}`,
    );
  if (opts.delimiter !== undefined && (typeof opts.delimiter !== "string" || opts.delimiter.length === 0)) {
    throw new OptionError(
      `${source}: expected delimiter to be a non-empty string, found ${JSON.stringify(opts.delimiter)}`,
    );
  }
}

/** The records of the text with the line each starts on (csv-parse's errors become DataFormatErrors). */
function parseRows(text: string | Uint8Array, delimiter: string, source: string, count?: number): Row[] {
  let records: { record: string[]; info: { lines: number } }[];
  try {
    const input = typeof text === "string" ? text : new TextDecoder("utf-8").decode(text);
    records = parse(input, {
      ...(count !== undefined ? { to: count } : {}),
      delimiter,
      bom: true,
      trim: true,
      skip_empty_lines: true,
      info: true,
    }) as unknown as typeof records;
  } catch (e) {
    throw new DataFormatError(
      `${source}: expected well-formed CSV, found: ${errorText(e)}`,
      "every row needs the same number of fields; quote fields that contain the delimiter, quotes or newlines",
    );
  }
  // info.lines is the line a record ends on; a quoted field may span lines.
  return records.map(({ record, info }) => ({
    cells: record,
    line: info.lines - record.reduce((s, f) => s + (f.match(/\n/g)?.length ?? 0), 0),
  }));
}

function hasHeader(rows: readonly Row[], opts: CsvOptions): boolean {
  const h = opts.header ?? "auto";
  if (h !== "auto") return h;
  if (typeof opts.label === "string") return true;
  return looksLikeHeader(rows[0].cells, rows[1]?.cells);
}

/**
 * Whether a first row names the columns by its content: one of its cells is not a number while
 * the cell under it is (a single row: none of its cells is a number).
 */
export function looksLikeHeader(first: readonly string[], second?: readonly string[]): boolean {
  if (!second) return first.every((c) => !isNumber(c));
  return first.some((c, i) => !isNumber(c) && isNumber(second[i]));
}

/** The first two rows of CSV text (or its UTF-8 bytes), fewer in a shorter file; errors as parseCsv's. */
export function firstRows(text: string | Uint8Array, delimiter: string, source = "CSV"): string[][] {
  return parseRows(text, delimiter, source, 2).map((r) => [...r.cells]);
}

function labelColumn(
  label: string | number | undefined,
  names: readonly string[] | null,
  width: number,
  source: string,
): number {
  if (label === undefined) return width - 1;
  if (typeof label === "number") {
    if (!Number.isInteger(label) || label < -width || label >= width) {
      throw new OptionError(
        `${source}: expected label to be a column index in ${-width}..${width - 1}, found ${label}`,
        `the file has ${width} columns`,
      );
    }
    return label < 0 ? width + label : label;
  }
  if (typeof label !== "string")
    throw new OptionError(`${source}: expected label to be a column name or index, found ${JSON.stringify(label)}`);
  if (!names)
    throw new OptionError(
      `${source}: label "${label}" is a column name, but the file is read without a header`,
      'pass header: true (or "auto"), or the label\'s column index',
    );
  const col = names.indexOf(label);
  if (col < 0)
    throw new OptionError(
      `${source}: expected a column named "${label}", found columns ${names.map((n) => JSON.stringify(n)).join(", ")}`,
    );
  return col;
}

/** y, classes and classNames from the label cells (see CsvOptions.classes). */
function labelsOf(
  labels: readonly string[],
  classes: CsvOptions["classes"],
  where: (row: number) => string,
  source: string,
): { y: Float32Array; classes: number; classNames?: readonly string[] } {
  const y = new Float32Array(labels.length);
  if (Array.isArray(classes)) {
    const index = new Map(classes.map((c, i) => [String(c), i]));
    if (index.size === 0 || index.size !== classes.length)
      throw new OptionError(
        `${source}: expected classes to be a list of distinct class names, found ${JSON.stringify(classes)}`,
      );
    labels.forEach((l, r) => {
      const i = index.get(l);
      if (i === undefined)
        throw new DataFormatError(
          `${source}: ${where(r)}: expected one of the classes ${[...index.keys()].map((c) => JSON.stringify(c)).join(", ")}, found ${JSON.stringify(l)}`,
          "add it to classes, or fix the row",
        );
      y[r] = i;
    });
    return { y, classes: classes.length, classNames: [...classes] };
  }
  if (classes !== undefined && !(typeof classes === "number" && Number.isInteger(classes) && classes >= 1)) {
    throw new OptionError(
      `${source}: expected classes to be an integer >= 1 or a list of class names, found ${JSON.stringify(classes)}`,
    );
  }
  if (labels.every((l) => isNumber(l) && Number.isInteger(Number(l)) && Number(l) >= 0)) {
    labels.forEach((l, r) => {
      y[r] = Number(l);
    });
    const count = classes ?? y.reduce((m, v) => Math.max(m, v), 0) + 1;
    const bad = y.findIndex((v) => v >= count);
    if (bad >= 0)
      throw new DataFormatError(
        `${source}: ${where(bad)}: expected a class index in 0..${count - 1}, found ${y[bad]}`,
        "pass the right classes, or fix the row",
      );
    return { y, classes: count };
  }
  const names = [...new Set(labels)].sort();
  if (classes !== undefined && classes !== names.length) {
    throw new OptionError(
      `${source}: classes is ${classes}, but the labels are ${names.length} class names`,
      "pass classes as the list of names (their label order), or leave it out",
    );
  }
  const index = new Map(names.map((c, i) => [c, i]));
  for (const [r, l] of labels.entries()) y[r] = index.get(l)!;
  return { y, classes: names.length, classNames: names };
}
