/** Reading CSV files (Node.js); the parsing itself is browser-safe (csv.ts). */
import { readFile } from "node:fs/promises";
import type { Dataset } from "./dataset.js";
import { parseCsvTable, type CsvOptions, type CsvTable } from "./csv.js";
import { readError } from "./readError.js";
import { errorText } from "./png.js";

/** Reads a CSV file (UTF-8) as a dataset; see parseCsv. */
export async function loadCsv(path: string, opts: CsvOptions = {}): Promise<Dataset> {
  return (await loadCsvTable(path, opts)).set;
}

/** Reads a CSV file (UTF-8) as a dataset, its feature columns' names and its label's column; see parseCsvTable. */
export async function loadCsvTable(path: string, opts: CsvOptions = {}): Promise<CsvTable> {
  return parseCsvTable(await readCsvBytes(path), opts, path);
}

/** A CSV file's bytes; a clear error where it cannot be read. */
export async function readCsvBytes(path: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(path));
  } catch (e) {
    throw readError(e, path, `cannot read ${path}: ${errorText(e)}`, "pass the path of a CSV file");
  }
}
