/**
 * A run folder (Node): checkpoint.bin (the full state after every epoch, and where an aborted
 * epoch stopped), best.bin (the model at the best validation epoch), metrics.jsonl (one line
 * per epoch), config.json, and train.lock while a process trains in it. The RunStore the
 * training loop writes through.
 *
 * The checkpoint is the run's single source of truth: it holds the records of every epoch done
 * (without their timings, so that its bytes depend on the run only), and metrics.jsonl is
 * rewritten from it after each checkpoint. Every file is replaced atomically (temporary file,
 * fsync, rename): a run killed at any point resumes with each epoch once. The timings of the
 * epochs travel in the metrics: its new version is written (not yet renamed) before the
 * checkpoint is renamed, so that a kill between the two renames loses nothing.
 */
import { basename, join } from "node:path";
import { crc32 } from "node:zlib";
import { CheckpointError, NumericalError } from "../core/errors.js";
import type { Preprocessing } from "../data/preprocessing.js";
import type { Sequential } from "../nn/sequential.js";
import { loadCheckpoint } from "./checkpoint.js";
import { encodeCheckpoint, type CheckpointContents } from "./checkpointFormat.js";
import type { TrainConfig } from "./config.js";
import { describeNonFinite, firstNonFinite } from "./finite.js";
import {
  acquireLock,
  ensureDir,
  isFolder,
  pathExists,
  readFileChecked,
  removeIfEmpty,
  removeQuietly,
  stageFile,
  staleTemporaries,
  writeFileAtomic,
  type Lock,
} from "./fsio.js";
import {
  bestFromJson,
  epochResult,
  type Best,
  type EpochRecord,
  type EpochResult,
  type PartialEpoch,
  type RunStore,
} from "./loop.js";
import { readModelState } from "./modelState.js";
import { preprocessingToState, type PreprocessingMeta } from "./preprocessingState.js";

export const CHECKPOINT_FILE = "checkpoint.bin";
export const BEST_FILE = "best.bin";
export const METRICS_FILE = "metrics.jsonl";
export const CONFIG_FILE = "config.json";
/** Present while a process trains in the folder: {"pid", "host", "started"}. */
export const LOCK_FILE = "train.lock";

/** What the checkpoint stores besides tensors. */
export interface CheckpointMeta {
  kind: "training";
  config: TrainConfig;
  epochsDone: number;
  step: number;
  best: Best;
  /** The model's input preprocessing (its arrays are tensors "preprocess.*"); absent in runs of the presets before 0.2. */
  preprocessing?: PreprocessingMeta;
  /** The records of epochs 1..epochsDone without their timings (NaN as null); absent in checkpoints of format version 1. */
  records?: EpochResult[];
  /** Present when the run was aborted part way through epoch epochsDone + 1: the state is after `partial.batch` of its steps. */
  partial?: PartialEpoch;
}

/**
 * The checkpoint contents of a model: meta plus parameters (and Adam's moments with
 * `withOptimizer`). A tensor that holds NaN or an infinity is a NumericalError: a diverged
 * model is never written.
 */
export async function checkpointContents(
  model: Sequential,
  config: TrainConfig,
  epochsDone: number,
  best: Best,
  withOptimizer: boolean,
  preprocessing?: Preprocessing,
  extra: { records?: EpochResult[]; partial?: PartialEpoch } = {},
): Promise<CheckpointContents<CheckpointMeta>> {
  const tensors = await readModelState(model, withOptimizer);
  const bad = firstNonFinite(tensors);
  if (bad) throw new NumericalError(describeNonFinite(bad));
  const meta: CheckpointMeta = { kind: "training", config, epochsDone, step: model.step, best };
  if (preprocessing) {
    const state = preprocessingToState(preprocessing);
    meta.preprocessing = state.meta;
    tensors.push(...state.tensors);
  }
  if (extra.records) meta.records = extra.records;
  if (extra.partial) meta.partial = extra.partial;
  return { meta, tensors };
}

type Timing = Pick<EpochRecord, "seconds" | "examples_per_second">;

const NUMBER_FIELDS = [
  "train_loss",
  "train_error",
  "val_loss",
  "val_error",
  "test_error",
  "best_epoch",
  "lr",
  "seconds",
  "examples_per_second",
] as const;

/** A record as JSON gives it back: null (NaN in JSON) is NaN again. */
function recordFromJson<R extends EpochResult>(r: R): R {
  const out = { ...r } as Record<string, unknown>;
  for (const k of NUMBER_FIELDS) if (k in out && out[k] === null) out[k] = Number.NaN;
  return out as R;
}

function isRecord(x: unknown): x is EpochRecord {
  if (typeof x !== "object" || x === null) return false;
  const r = x as Record<string, unknown>;
  // null: a NaN or an infinity as JSON writes it (no validation or test set, a diverged loss)
  return (
    Number.isInteger(r.epoch) &&
    (r.epoch as number) >= 1 &&
    RECORD_NUMBERS.every((key) => typeof r[key] === "number" || r[key] === null)
  );
}

/** The numbers every epoch's record holds (besides its epoch; the timings may be absent). */
const RECORD_NUMBERS = ["train_loss", "train_error", "val_loss", "val_error", "test_error", "best_epoch", "lr"];

/**
 * The records of a metrics.jsonl text, one per epoch (a later line of an epoch replaces an
 * earlier one). A last line that is cut short (a torn write of an older version) is left out;
 * another line that is not a record is an error naming it.
 */
export function parseMetrics(text: string, path: string): EpochRecord[] {
  const lines = text.split("\n").filter((l) => l.trim() !== "");
  const byEpoch = new Map<number, EpochRecord>();
  lines.forEach((line, i) => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      parsed = undefined;
    }
    if (!isRecord(parsed)) {
      if (i === lines.length - 1) return; // torn
      throw new CheckpointError(
        `${path}: line ${i + 1} is not an epoch's record: ${JSON.stringify(line.slice(0, 80))}`,
        "delete that line and resume: the checkpoint holds the state",
      );
    }
    byEpoch.set(parsed.epoch, recordFromJson(parsed));
  });
  return [...byEpoch.values()].sort((a, b) => a.epoch - b.epoch);
}

/** The records of a run folder's metrics.jsonl (empty when it has none). */
export function readMetricsFile(path: string): EpochRecord[] {
  if (!pathExists(path)) return [];
  return parseMetrics(new TextDecoder().decode(readFileChecked(path, "read the metrics")), path);
}

function metricsBytes(history: readonly EpochRecord[]): Uint8Array {
  return new TextEncoder().encode(history.map((r) => `${JSON.stringify(r)}\n`).join(""));
}

/**
 * `ckpt` checked to be a training checkpoint (a CheckpointError otherwise), its best epoch with
 * the infinities and NaNs that JSON wrote as null.
 */
export function trainingCheckpoint(
  ckpt: CheckpointContents<CheckpointMeta>,
  path: string,
): CheckpointContents<CheckpointMeta> {
  const m = ckpt.meta as Partial<CheckpointMeta>;
  if (m.kind !== "training") throw new CheckpointError(`${path} is not a training checkpoint`);
  if (
    typeof m.config !== "object" ||
    m.config === null ||
    !Number.isInteger(m.epochsDone) ||
    !Number.isInteger(m.step) ||
    typeof m.best !== "object" ||
    m.best === null
  ) {
    throw new CheckpointError(
      `${path}: its metadata lacks the run's configuration, epochs, step or best epoch`,
      "the file was not written by binaryconnect train",
    );
  }
  if (m.records !== undefined && !(Array.isArray(m.records) && m.records.every(isRecord)))
    throw new CheckpointError(`${path}: its epoch records are not records`);
  if (
    m.partial !== undefined &&
    !(
      typeof m.partial === "object" &&
      m.partial !== null &&
      Number.isInteger(m.partial.batch) &&
      m.partial.epoch === m.epochsDone! + 1 &&
      typeof m.partial.lossSum === "number" &&
      typeof m.partial.errors === "number"
    )
  ) {
    throw new CheckpointError(`${path}: its partial epoch is not one after epoch ${m.epochsDone}`);
  }
  ckpt.meta.best = bestFromJson(m.best);
  return ckpt;
}

/** What is wrong with a run folder's best.bin (missing, or not a checkpoint that reads back), or null. */
function bestFileProblem(path: string): string | null {
  if (!pathExists(path)) return `${path} is missing`;
  try {
    loadCheckpoint(path);
    return null;
  } catch (e) {
    if (!(e instanceof CheckpointError)) throw e;
    return `${path} is damaged (${e.message.split("\n")[0]})`;
  }
}

/**
 * The error for a run folder without the checkpoint asked for (`which`: best.bin or
 * checkpoint.bin): where a run stopped before its first epoch ended, it has a checkpoint.bin but
 * no best.bin yet, and the hint says that --which last reads it (`verb`: what the command does
 * with it).
 */
export function noCheckpoint(dir: string, which: "best" | "last", verb = "reads"): CheckpointError {
  const path = join(dir, which === "best" ? BEST_FILE : CHECKPOINT_FILE);
  if (pathExists(dir) && !isFolder(dir))
    return new CheckpointError(`${dir} is a file, not a run folder`, "pass the run folder given to train's --out");
  const last = which === "best" && pathExists(join(dir, CHECKPOINT_FILE));
  return new CheckpointError(
    `no checkpoint at ${path}`,
    last
      ? `the folder has no ${BEST_FILE} (a run that stopped in its first epoch has none yet); --which last ${verb} its ${CHECKPOINT_FILE}`
      : "train first, or pass the run folder given to --out",
  );
}

export class RunFolder implements RunStore {
  /** The records of epochs 1..epochsDone, with their timings (NaN where a timing was lost). */
  private history: EpochRecord[] = [];
  /** Timings of epochs found in the folder's metrics (and in a new version of it that a kill left unrenamed). */
  private timings = new Map<number, Timing>();
  private lock: Lock | undefined;
  /** Whether open() made the folder: a run that then writes nothing leaves no empty folder behind. */
  private created = false;

  /** `preprocessing`: saved with every checkpoint (a function: read when each checkpoint is written). */
  constructor(
    readonly dir: string,
    private readonly preprocessing?: Preprocessing | (() => Preprocessing | undefined),
  ) {}

  private currentPreprocessing(): Preprocessing | undefined {
    return typeof this.preprocessing === "function" ? this.preprocessing() : this.preprocessing;
  }

  private path(file: string): string {
    return join(this.dir, file);
  }

  /**
   * Takes the folder for a training: creates it, locks it (train.lock: a process training in it
   * is a RunInUseError naming it; the lock of a process that no longer runs is taken over, with
   * a note on stderr), and removes the temporary files that killed or failed writes left.
   */
  open(): void {
    if (this.lock) return;
    this.created = !pathExists(this.dir);
    ensureDir(this.dir);
    this.lock = acquireLock(this.path(LOCK_FILE), this.dir);
    try {
      const stale = staleTemporaries(this.dir);
      const metrics = [this.path(METRICS_FILE), ...stale.filter((p) => basename(p).startsWith(`${METRICS_FILE}.tmp-`))];
      this.timings = new Map();
      for (const path of metrics.reverse()) {
        let records: EpochRecord[];
        try {
          records = readMetricsFile(path);
        } catch {
          continue; // timings only: a damaged file has none to give
        }
        for (const r of records)
          this.timings.set(r.epoch, { seconds: r.seconds, examples_per_second: r.examples_per_second });
      }
      for (const path of stale) removeQuietly(path);
    } catch (e) {
      this.close();
      throw e;
    }
    if (this.lock.note) console.warn(this.lock.note);
  }

  /** Releases the folder (its lock). */
  close(): void {
    const lock = this.lock;
    this.lock = undefined;
    lock?.release();
    if (lock && this.created) removeIfEmpty(this.dir);
  }

  /** Starts a new run: config.json and metrics.jsonl (the records of `history`: a model's earlier epochs trained in memory). */
  start(config: TrainConfig, history: readonly EpochRecord[] = []): void {
    ensureDir(this.dir);
    this.history = [...history];
    writeFileAtomic(this.path(CONFIG_FILE), new TextEncoder().encode(`${JSON.stringify(config, null, 2)}\n`));
    writeFileAtomic(this.path(METRICS_FILE), metricsBytes(this.history));
  }

  hasCheckpoint(): boolean {
    return pathExists(this.path(CHECKPOINT_FILE));
  }

  /** The last checkpoint, checked to be a training checkpoint. */
  readCheckpoint(): CheckpointContents<CheckpointMeta> {
    const path = this.path(CHECKPOINT_FILE);
    return trainingCheckpoint(loadCheckpoint<CheckpointMeta>(path), path);
  }

  /**
   * Resumes from `ckpt`: the records of its epochs (from the checkpoint; from metrics.jsonl for
   * checkpoints of format version 1), with the timings the folder has. metrics.jsonl is
   * rewritten from them (a kill after the last checkpoint left it behind, or ahead).
   */
  resume(ckpt: CheckpointContents<CheckpointMeta>): EpochRecord[] {
    const { meta } = ckpt;
    const records = meta.records
      ? meta.records.map((r) => ({
          ...epochResult(recordFromJson(r) as EpochRecord),
          ...(this.timings.get(r.epoch) ?? { seconds: Number.NaN, examples_per_second: Number.NaN }),
        }))
      : readMetricsFile(this.path(METRICS_FILE)).filter((r) => r.epoch <= meta.epochsDone);
    const missing = Array.from({ length: meta.epochsDone }, (_, i) => i + 1).filter(
      (epoch) => !records.some((r) => r.epoch === epoch),
    );
    if (missing.length) {
      console.warn(
        `note: ${this.dir} has no record of epoch${missing.length > 1 ? "s" : ""} ${missing.join(", ")} (lost by a kill under an older version); the run continues without ${missing.length > 1 ? "them" : "it"}`,
      );
    }
    this.history = records;
    writeFileAtomic(this.path(METRICS_FILE), metricsBytes(records));
    const problem = meta.best.epoch > 0 ? bestFileProblem(this.path(BEST_FILE)) : null;
    if (problem)
      console.warn(
        `note: ${problem}; it is written again at the next epoch whose validation error is the best so far (until then eval and export can read ${CHECKPOINT_FILE} with --which last)`,
      );
    return [...records];
  }

  async saveBest(model: Sequential, config: TrainConfig, epochsDone: number, best: Best): Promise<void> {
    const contents = await checkpointContents(model, config, epochsDone, best, false, this.currentPreprocessing());
    writeFileAtomic(this.path(BEST_FILE), encodeCheckpoint(contents, crc32));
  }

  /** checkpoint.bin with the records of every epoch, then metrics.jsonl from them (its new version written before the checkpoint is renamed). */
  async saveEpoch(
    model: Sequential,
    config: TrainConfig,
    epochsDone: number,
    best: Best,
    record: EpochRecord,
  ): Promise<void> {
    const history = [...this.history.filter((r) => r.epoch < record.epoch), record];
    const contents = await checkpointContents(model, config, epochsDone, best, true, this.currentPreprocessing(), {
      records: history.map(epochResult),
    });
    const bytes = encodeCheckpoint(contents, crc32);
    const metrics = stageFile(this.path(METRICS_FILE), metricsBytes(history));
    try {
      writeFileAtomic(this.path(CHECKPOINT_FILE), bytes);
    } catch (e) {
      metrics.discard();
      throw e;
    }
    this.history = history;
    // should the rename fail, the new metrics stay as a temporary file: the next run takes the epoch's timings from it
    metrics.commit(true);
  }

  /** checkpoint.bin part way through epoch epochsDone + 1 (an aborted run); metrics.jsonl is unchanged. */
  async savePartial(
    model: Sequential,
    config: TrainConfig,
    epochsDone: number,
    best: Best,
    partial: PartialEpoch,
  ): Promise<void> {
    const contents = await checkpointContents(model, config, epochsDone, best, true, this.currentPreprocessing(), {
      records: this.history.map(epochResult),
      partial,
    });
    writeFileAtomic(this.path(CHECKPOINT_FILE), encodeCheckpoint(contents, crc32));
  }

  /** Rewrites config.json (a finished run continued with more epochs). */
  writeConfig(config: TrainConfig): void {
    writeFileAtomic(this.path(CONFIG_FILE), new TextEncoder().encode(`${JSON.stringify(config, null, 2)}\n`));
  }
}
