/**
 * The Node.js parts of the library: run folders for `fit({ checkpointDir })` and files for
 * `model.save(path)` / `bc.loadModel(path)`. Imported by the Node entry (src/index.ts).
 */
import { mkdirSync, readFileSync } from "node:fs";
import { dirname } from "node:path";
import { CheckpointError } from "../core/errors.js";
import { writeFileAtomic } from "../train/checkpoint.js";
import { RunFolder } from "../train/runFolder.js";
import { registerFileStorage } from "./persist.js";
import { registerRunFolder } from "./platform.js";

registerRunFolder((dir, model) => new RunFolder(dir, () => model.preprocessing));

registerFileStorage(
  async (path, bytes) => {
    mkdirSync(dirname(path), { recursive: true });
    writeFileAtomic(path, bytes);
    return path;
  },
  async (path) => {
    try {
      return new Uint8Array(readFileSync(path));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new CheckpointError(`cannot read the model ${path}: ${code === "ENOENT" ? "no such file" : (e as Error).message}`, code === "ENOENT" ? "pass a file written by model.save, or a run folder's best.bin / checkpoint.bin" : undefined);
    }
  },
);
