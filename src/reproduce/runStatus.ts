import { join } from "node:path";
import { CheckpointError, OptionError } from "../core/errors.js";
import type { TrainConfig } from "../train/config.js";
import { lockHolder, pathExists, readFileChecked } from "../train/fsio.js";
import { LOCK_FILE, readMetricsFile } from "../train/runFolder.js";
import { CHECKPOINT_FILE, METRICS_FILE, type EpochRecord } from "../train/trainer.js";
import type { RunSpec } from "./plan.js";

/**
 * Where a run stands: not started, interrupted (a checkpoint to resume from), or finished
 * (metrics of every epoch: metrics.jsonl is rewritten from the checkpoint after each one, and
 * when a run resumes). A run that is not finished may be training now: RunStatus.trainer.
 */
export type RunState = "new" | "interrupted" | "finished";

export interface RunStatus {
  state: RunState;
  records: EpochRecord[];
  /** The process training in the folder now (its train.lock held), if any. */
  trainer?: { pid: number; host: string };
}

/** Reads a run folder's metrics.jsonl (empty when absent; a torn last line of an older version is left out). */
export function readMetrics(dir: string): EpochRecord[] {
  return readMetricsFile(join(dir, METRICS_FILE));
}

/**
 * The state of `run`'s folder. A folder trained with other settings (another preset, mode,
 * seed or number of epochs) is an error, never silently mixed into the results.
 */
export function runStatus(run: RunSpec): RunStatus {
  const configPath = join(run.dir, "config.json");
  if (!pathExists(configPath)) return { state: "new", records: [] };
  let config: TrainConfig;
  try {
    config = JSON.parse(
      new TextDecoder().decode(readFileChecked(configPath, "read the run's configuration")),
    ) as TrainConfig;
  } catch (e) {
    if (!(e instanceof SyntaxError)) throw e;
    // config.json is written before anything else: a run killed while writing it (by an older version) has nothing to keep
    if (!pathExists(join(run.dir, CHECKPOINT_FILE))) return { state: "new", records: [] };
    throw new CheckpointError(
      `${configPath} is not JSON`,
      "the file was edited or damaged; delete the run folder to retrain it",
    );
  }
  const expected = {
    preset: run.preset,
    mode: run.method.mode,
    seed: run.seed,
    epochs: run.epochs,
    dropout: run.method.dropout,
  };
  const found = {
    preset: config.preset,
    mode: config.mode,
    seed: config.seed,
    epochs: config.epochs,
    dropout: config.dropout.hidden > 0,
  };
  for (const key of Object.keys(expected) as (keyof typeof expected)[]) {
    if (expected[key] !== found[key]) {
      throw new OptionError(
        `${run.dir} holds a run with ${key} ${JSON.stringify(found[key])}, but this experiment trains ${key} ${JSON.stringify(expected[key])}`,
        "use another --out folder, or delete that run folder to retrain it",
      );
    }
  }
  const records = readMetrics(run.dir);
  if (records.length > 0 && records[records.length - 1].epoch >= run.epochs) return { state: "finished", records };
  const trainer = liveTrainer(run.dir);
  const state = pathExists(join(run.dir, CHECKPOINT_FILE)) ? "interrupted" : "new";
  return { state, records, ...(trainer ? { trainer } : {}) };
}

/** The process that holds `dir`'s train.lock, where one does (on another host: as its lock says). */
function liveTrainer(dir: string): { pid: number; host: string } | undefined {
  const holder = lockHolder(join(dir, LOCK_FILE));
  return holder?.live && holder.info ? { pid: holder.info.pid, host: holder.info.host } : undefined;
}
