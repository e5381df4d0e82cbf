/**
 * The Node.js parts of the library: run folders for `fit({ checkpointDir })` and files for
 * `model.save(path)` / `bc.loadModel(path)`. Imported by the Node entry (src/index.ts).
 * File failures are typed errors (StorageError: the path, the cause, a hint).
 */
import { readFileSync } from "node:fs";
import { dirname } from "node:path";
import { StorageError } from "../core/errors.js";
import { ensureDir, storageError, writeFileAtomic } from "../train/fsio.js";
import { RunFolder } from "../train/runFolder.js";
import { registerFileStorage } from "./persist.js";
import { registerRunFolder } from "./platform.js";

registerRunFolder((dir, model) => new RunFolder(dir, () => model.preprocessing));

registerFileStorage(
  async (path, bytes) => {
    ensureDir(dirname(path));
    writeFileAtomic(path, bytes);
    return path;
  },
  async (path) => {
    try {
      return new Uint8Array(readFileSync(path));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "ENOENT")
        throw new StorageError(
          path,
          code,
          `cannot read the model ${path}: no such file`,
          "pass a file written by model.save, or a run folder's best.bin / checkpoint.bin",
        );
      throw storageError(e, "read the model", path);
    }
  },
);
