/**
 * A run folder (Node): config.json, metrics.jsonl (one line per epoch), checkpoint.bin (the full
 * state after every epoch, written atomically) and best.bin (the model at the best validation
 * epoch). The RunStore the training loop writes through.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CheckpointError } from "../core/errors.js";
import type { Preprocessing } from "../data/preprocessing.js";
import type { Sequential } from "../nn/sequential.js";
import { loadCheckpoint, saveCheckpoint, type CheckpointContents } from "./checkpoint.js";
import type { TrainConfig } from "./config.js";
import type { Best, EpochRecord, RunStore } from "./loop.js";
import { readModelState } from "./modelState.js";
import { preprocessingToState, type PreprocessingMeta } from "./preprocessingState.js";

export const CHECKPOINT_FILE = "checkpoint.bin";
export const BEST_FILE = "best.bin";
export const METRICS_FILE = "metrics.jsonl";
export const CONFIG_FILE = "config.json";

/** What the checkpoint stores besides tensors. */
export interface CheckpointMeta {
  kind: "training";
  config: TrainConfig;
  epochsDone: number;
  step: number;
  best: Best;
  /** The model's input preprocessing (its arrays are tensors "preprocess.*"); absent in runs of the presets before 0.2. */
  preprocessing?: PreprocessingMeta;
}

/** The checkpoint contents of a model: meta plus parameters (and Adam's moments with `withOptimizer`). */
export async function checkpointContents(model: Sequential, config: TrainConfig, epochsDone: number, best: Best, withOptimizer: boolean, preprocessing?: Preprocessing): Promise<CheckpointContents<CheckpointMeta>> {
  const tensors = await readModelState(model, withOptimizer);
  const meta: CheckpointMeta = { kind: "training", config, epochsDone, step: model.step, best };
  if (preprocessing) {
    const state = preprocessingToState(preprocessing);
    meta.preprocessing = state.meta;
    tensors.push(...state.tensors);
  }
  return { meta, tensors };
}

export class RunFolder implements RunStore {
  /** `preprocessing`: saved with every checkpoint (a function: read when each checkpoint is written). */
  constructor(readonly dir: string, private readonly preprocessing?: Preprocessing | (() => Preprocessing | undefined)) {}

  private currentPreprocessing(): Preprocessing | undefined {
    return typeof this.preprocessing === "function" ? this.preprocessing() : this.preprocessing;
  }

  /** Starts a new run: the folder, an empty metrics.jsonl, config.json. */
  start(config: TrainConfig): void {
    mkdirSync(this.dir, { recursive: true });
    writeFileSync(join(this.dir, METRICS_FILE), "");
    writeFileSync(join(this.dir, CONFIG_FILE), JSON.stringify(config, null, 2) + "\n");
  }

  hasCheckpoint(): boolean {
    return existsSync(join(this.dir, CHECKPOINT_FILE));
  }

  /** The last checkpoint, checked to be a training checkpoint. */
  readCheckpoint(): CheckpointContents<CheckpointMeta> {
    const path = join(this.dir, CHECKPOINT_FILE);
    const ckpt = loadCheckpoint<CheckpointMeta>(path);
    if (ckpt.meta.kind !== "training") throw new CheckpointError(`${path} is not a training checkpoint`);
    return ckpt;
  }

  async saveBest(model: Sequential, config: TrainConfig, epochsDone: number, best: Best): Promise<void> {
    saveCheckpoint(join(this.dir, BEST_FILE), await checkpointContents(model, config, epochsDone, best, false, this.currentPreprocessing()));
  }

  async saveEpoch(model: Sequential, config: TrainConfig, epochsDone: number, best: Best, record: EpochRecord): Promise<void> {
    saveCheckpoint(join(this.dir, CHECKPOINT_FILE), await checkpointContents(model, config, epochsDone, best, true, this.currentPreprocessing()));
    appendFileSync(join(this.dir, METRICS_FILE), JSON.stringify(record) + "\n");
  }

  /** Keeps the metrics of epochs 1..epochs (lines written after the checkpoint are dropped). */
  truncateMetrics(epochs: number): void {
    const path = join(this.dir, METRICS_FILE);
    if (!existsSync(path)) return;
    const lines = readFileSync(path, "utf8").split("\n").filter((l) => l.trim() !== "");
    const kept = lines.filter((l) => (JSON.parse(l) as EpochRecord).epoch <= epochs);
    writeFileSync(path, kept.map((l) => l + "\n").join(""));
  }

  /** The metrics of the epochs recorded so far (lines that do not parse are an error naming the line). */
  readMetrics(): EpochRecord[] {
    const path = join(this.dir, METRICS_FILE);
    if (!existsSync(path)) return [];
    return readFileSync(path, "utf8").split("\n").filter((l) => l.trim() !== "").map((l, i) => {
      try {
        return JSON.parse(l) as EpochRecord;
      } catch {
        throw new CheckpointError(`${path}: line ${i + 1} is not JSON (a torn write?)`, "delete that line and resume: the checkpoint holds the state");
      }
    });
  }

  /** Rewrites config.json (a finished run continued with more epochs). */
  writeConfig(config: TrainConfig): void {
    writeFileSync(join(this.dir, CONFIG_FILE), JSON.stringify(config, null, 2) + "\n");
  }
}
