import { DataFormatError, StorageError } from "../core/errors.js";

/**
 * The error for a data file that could not be read: the file system's failure (it has a code,
 * e.g. ENOENT) as a StorageError naming the path and the code, anything else as a DataFormatError.
 */
export function readError(e: unknown, path: string, text: string, hint?: string): Error {
  const code = (e as NodeJS.ErrnoException).code;
  return typeof code === "string" ? new StorageError(path, code, text, hint) : new DataFormatError(text, hint);
}
