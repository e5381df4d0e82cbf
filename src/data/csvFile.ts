/** Reading CSV files (Node.js); the parsing itself is browser-safe (csv.ts). */
import { readFile } from "node:fs/promises";
import type { Dataset } from "./dataset.js";
import { parseCsv, type CsvOptions } from "./csv.js";
import { DataFormatError, StorageError } from "../core/errors.js";
import { errorText } from "./png.js";

/** Reads a CSV file (UTF-8) as a dataset; see parseCsv. */
export async function loadCsv(path: string, opts: CsvOptions = {}): Promise<Dataset> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(path));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const text = `cannot read ${path}: ${errorText(e)}`;
    if (typeof code === "string") throw new StorageError(path, code, text, "pass the path of a CSV file");
    throw new DataFormatError(text, "pass the path of a CSV file");
  }
  return parseCsv(bytes, opts, path);
}
