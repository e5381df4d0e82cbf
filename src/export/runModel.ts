/**
 * Reading a run folder for export (Node): its model (best.bin or checkpoint.bin) with the
 * preprocessing saved in it. Runs written before the preprocessing was saved (version 0.1) get
 * it recomputed from the run's data exactly as their training computed it: the data folder the
 * run recorded, else `data`, else the bundled MNIST.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { modelFromBytes } from "../api/persist.js";
import { CheckpointError } from "../core/errors.js";
import { loadRunData } from "../train/data.js";
import { BEST_FILE, CHECKPOINT_FILE, noCheckpoint } from "../train/runFolder.js";
import { modelRun, type RunModel } from "./modelRun.js";

export {
  modelRun,
  PRODUCER,
  toBcnet,
  type RunConv,
  type RunDense,
  type RunLayer,
  type RunMaxPool,
  type RunModel,
} from "./modelRun.js";

export interface ReadRunOptions {
  /** best (default): best.bin, the model at the best validation epoch; last: checkpoint.bin. */
  which?: "best" | "last";
  /** The data folder, only for runs that did not save their preprocessing (default: the one the run recorded, else the bundled MNIST). */
  data?: string;
}

export async function readRun(dir: string, options: ReadRunOptions = {}): Promise<RunModel> {
  const source = join(dir, options.which === "last" ? CHECKPOINT_FILE : BEST_FILE);
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(source));
  } catch {
    throw noCheckpoint(dir, options.which ?? "best");
  }
  const model = modelFromBytes(bytes, source, { backend: "reference" });
  const training = model.training;
  if (!training) throw new CheckpointError(`${source} is not a model written by binaryconnect train`);
  const { tensors } = await model.getState(false);
  const preprocessing =
    model.preprocessing ??
    (await loadRunData(training.config, options.data ?? training.config.data?.dir)).preprocessing;
  return modelRun(model.network, tensors, preprocessing, source, training);
}
