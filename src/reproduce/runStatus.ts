import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { CheckpointError, OptionError } from "../core/errors.js";
import type { TrainConfig } from "../train/config.js";
import { CHECKPOINT_FILE, METRICS_FILE, type EpochRecord } from "../train/trainer.js";
import type { RunSpec } from "./plan.js";

/**
 * Where a run stands: not started, interrupted (a checkpoint to resume from), or finished
 * (metrics of every epoch; the trainer appends an epoch's metrics only after its checkpoint).
 */
export type RunState = "new" | "interrupted" | "finished";

export interface RunStatus {
  state: RunState;
  records: EpochRecord[];
}

/** Reads a run folder's metrics.jsonl (empty when absent). */
export function readMetrics(dir: string): EpochRecord[] {
  const path = join(dir, METRICS_FILE);
  if (!existsSync(path)) return [];
  return readFileSync(path, "utf8").split("\n").filter((l) => l.trim() !== "").map((line, i) => {
    try {
      return JSON.parse(line) as EpochRecord;
    } catch {
      throw new CheckpointError(`${path}: line ${i + 1} is not JSON: ${JSON.stringify(line.slice(0, 80))}`, "the file was edited or corrupted; delete the run folder to retrain it");
    }
  });
}

/**
 * The state of `run`'s folder. A folder trained with other settings (another preset, mode,
 * seed or number of epochs) is an error, never silently mixed into the results.
 */
export function runStatus(run: RunSpec): RunStatus {
  const configPath = join(run.dir, "config.json");
  if (!existsSync(configPath)) return { state: "new", records: [] };
  const config = JSON.parse(readFileSync(configPath, "utf8")) as TrainConfig;
  const expected = { preset: run.preset, mode: run.method.mode, seed: run.seed, epochs: run.epochs, dropout: run.method.dropout };
  const found = { preset: config.preset, mode: config.mode, seed: config.seed, epochs: config.epochs, dropout: config.dropout.hidden > 0 };
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
  if (existsSync(join(run.dir, CHECKPOINT_FILE))) return { state: "interrupted", records };
  return { state: "new", records };
}
