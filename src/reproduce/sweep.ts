import { join } from "node:path";
import { OptionError } from "../core/errors.js";
import { writeFileAtomic } from "../train/checkpoint.js";
import { pathExists, readFileChecked } from "../train/fsio.js";
import type { Budget, DatasetName, MethodId, PlanOptions, TrainSettings } from "./plan.js";

/** Where an experiment's runs are trained. */
export type Executor = "local" | "slurm" | "k8s";
export const EXECUTORS: readonly Executor[] = ["local", "slurm", "k8s"];

/** DIR/sweep.json: what `reproduce` was asked to train, so that `reproduce status|collect DIR` can plan it again. */
export const SWEEP_FILE = "sweep.json";

export interface SweepRecord {
  dataset: DatasetName;
  budget: Budget;
  seeds: number;
  epochs?: number;
  methods?: MethodId[];
  backend: string;
  threads: number;
  simd: string;
  extraTrainArgs: string[];
  /** Where the runs were last sent. */
  on: Executor;
}

/** The record of an experiment about to run. */
export function sweepRecord(o: PlanOptions & TrainSettings, on: Executor): SweepRecord {
  return {
    dataset: o.dataset,
    budget: o.budget,
    seeds: o.seeds,
    ...(o.epochs !== undefined ? { epochs: o.epochs } : {}),
    ...(o.methods ? { methods: o.methods } : {}),
    backend: o.backend,
    threads: o.threads,
    simd: o.simd,
    extraTrainArgs: o.extraTrainArgs ?? [],
    on,
  };
}

/**
 * Writes DIR/sweep.json. A folder that already holds an experiment must be asked for the same
 * runs (dataset, budget, epochs, data options): its finished runs would be skipped and its
 * stopped ones resumed on their own data, so other settings are refused, not silently dropped.
 * More seeds or methods, and other backends, threads or schedulers, are the same experiment.
 */
export function writeSweep(outDir: string, record: SweepRecord): void {
  checkSweepFolder(outDir, record);
  writeFileAtomic(join(outDir, SWEEP_FILE), new TextEncoder().encode(`${JSON.stringify(record, null, 2)}\n`));
}

/** Reads DIR/sweep.json; the plan options of the experiment in `outDir`. */
export function readSweep(outDir: string): SweepRecord & { outDir: string } {
  const path = join(outDir, SWEEP_FILE);
  if (!pathExists(path))
    throw new OptionError(
      `${outDir} is not an experiment folder: expected ${path}, found no such file`,
      "pass the --out folder of a `binaryconnect reproduce` experiment (it writes sweep.json when it starts)",
    );
  let record: SweepRecord;
  try {
    record = JSON.parse(new TextDecoder().decode(readFileChecked(path, "read the experiment's record"))) as SweepRecord;
  } catch (e) {
    if (!(e instanceof SyntaxError)) throw e;
    throw new OptionError(`${path} is not JSON`, "the file was edited or damaged; run the reproduce command again");
  }
  return { ...record, outDir };
}

/** The settings that make an experiment's runs what they are, as the command line gives them. */
function runSettings(r: SweepRecord): Record<string, string> {
  return {
    dataset: r.dataset,
    "--budget": r.budget,
    "--epochs": r.epochs === undefined ? "(the budget's)" : String(r.epochs),
    "data options": r.extraTrainArgs.length ? r.extraTrainArgs.join(" ") : "(none)",
  };
}

/** Refuses a folder that holds an experiment of other settings (writeSweep's check, for callers that write later). */
export function checkSweepFolder(outDir: string, record: SweepRecord): void {
  if (pathExists(join(outDir, SWEEP_FILE))) checkSameSweep(readSweep(outDir), record);
}

function checkSameSweep(before: SweepRecord & { outDir: string }, now: SweepRecord): void {
  const was = runSettings(before),
    is = runSettings(now);
  const differ = Object.keys(is).filter((k) => is[k] !== was[k]);
  if (differ.length)
    throw new OptionError(
      `${before.outDir} holds an experiment with other settings: ${differ.map((k) => `${k} ${was[k]} there, ${is[k]} now`).join("; ")}`,
      "give its settings again to continue it (`reproduce status` shows them), or choose another --out for the new experiment",
    );
}
