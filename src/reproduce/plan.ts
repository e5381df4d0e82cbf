import { join } from "node:path";
import { OptionError } from "../core/errors.js";
import type { DatasetName as AnyDatasetName } from "../train/config.js";

/** The datasets of the paper's table (section 3). */
export type DatasetName = Exclude<AnyDatasetName, "cifar100">;
export const PAPER_DATASETS: readonly DatasetName[] = ["mnist", "cifar10", "svhn"];
import type { Binarization } from "../nn/binarization.js";
import { getPreset } from "../train/presets.js";

/** The methods of the paper's Table 2 (section 3). */
export type MethodId = "none" | "det" | "stoch" | "dropout";

export interface Method {
  id: MethodId;
  label: string;
  /** Weight binarization during training (section 2.3). */
  mode: Binarization;
  /** The "50% dropout" baseline: mode none with dropout 0.2 input / 0.5 hidden. */
  dropout: boolean;
}

export const METHODS: Record<MethodId, Method> = {
  none: { id: "none", label: "No regularizer", mode: "none", dropout: false },
  det: { id: "det", label: "BinaryConnect (det.)", mode: "det", dropout: false },
  stoch: { id: "stoch", label: "BinaryConnect (stoch.)", mode: "stoch", dropout: false },
  dropout: { id: "dropout", label: "50% dropout", mode: "none", dropout: true },
};

/** The paper's test errors (Table 2), percent; MNIST with its std over runs. */
export const PAPER_RESULTS: Record<DatasetName, Partial<Record<MethodId, { mean: number; std?: number }>>> = {
  mnist: {
    none: { mean: 1.3, std: 0.04 },
    det: { mean: 1.29, std: 0.08 },
    stoch: { mean: 1.18, std: 0.04 },
    dropout: { mean: 1.01, std: 0.04 },
  },
  cifar10: { none: { mean: 10.64 }, det: { mean: 9.9 }, stoch: { mean: 8.27 } },
  svhn: { none: { mean: 2.44 }, det: { mean: 2.3 }, stoch: { mean: 2.15 } },
};

/** The methods the paper's table has for each dataset (dropout: MNIST only). */
export function methodsOf(dataset: DatasetName): Method[] {
  return (Object.keys(PAPER_RESULTS[dataset]) as MethodId[]).map((id) => METHODS[id]);
}

export type Budget = "quick" | "paper";
export const BUDGETS: readonly Budget[] = ["quick", "paper"];

/**
 * What each budget trains. paper: the paper's presets and schedules (weeks on a CPU).
 * quick: schedules that fit this project's 2-core machine: the MNIST network on 20 epochs
 * (Adam 3e-3 -> 3e-6 compressed into them: 12 runs in about 2 hours with --parallel 2), the
 * quarter-width CIFAR-10 network on its 10-epoch preset (its three runs in about two hours with
 * --parallel 3 --threads 1), the quarter-width SVHN network on its 5-epoch preset.
 */
export const BUDGET_PRESETS: Record<Budget, Record<DatasetName, { preset: string; epochs?: number }>> = {
  quick: {
    mnist: { preset: "mnist-quick", epochs: 20 },
    cifar10: { preset: "cifar10-small" },
    svhn: { preset: "svhn-small" },
  },
  paper: { mnist: { preset: "mnist-paper" }, cifar10: { preset: "cifar10-paper" }, svhn: { preset: "svhn-paper" } },
};

/** One training run of the experiment. */
export interface RunSpec {
  /** Folder name under DIR/runs: `<method>-seed<k>`. */
  name: string;
  method: Method;
  seed: number;
  preset: string;
  epochs: number;
  dir: string;
}

export interface PlanOptions {
  dataset: DatasetName;
  budget: Budget;
  seeds: number;
  outDir: string;
  /** Overrides the budget's epochs (smoke tests, shorter experiments). */
  epochs?: number;
  /** Only these methods (default: every method of the paper's table for the dataset). */
  methods?: MethodId[];
}

/** Every run of the experiment, ordered seed-major so that early results cover every method. */
export function planRuns(o: PlanOptions): RunSpec[] {
  const { preset, epochs: budgetEpochs } = BUDGET_PRESETS[o.budget][o.dataset];
  const epochs = o.epochs ?? budgetEpochs ?? getPreset(preset).epochs;
  const available = methodsOf(o.dataset);
  const methods = o.methods ? o.methods.map((id) => methodOf(id, available, o.dataset)) : available;
  const runs: RunSpec[] = [];
  for (let seed = 1; seed <= o.seeds; seed++) {
    for (const method of methods) {
      const name = `${method.id}-seed${seed}`;
      runs.push({ name, method, seed, preset, epochs, dir: join(o.outDir, "runs", name) });
    }
  }
  return runs;
}

function methodOf(id: MethodId, available: Method[], dataset: DatasetName): Method {
  const m = available.find((a) => a.id === id);
  if (!m)
    throw new OptionError(
      `method "${id}" is not in the paper's ${dataset} table; expected one of ${available.map((a) => a.id).join(", ")}`,
    );
  return m;
}

/** The `train` arguments of a run. */
export function trainArgs(run: RunSpec): string[] {
  return [
    "--preset",
    run.preset,
    "--mode",
    run.method.mode,
    ...(run.method.dropout ? ["--dropout"] : []),
    "--seed",
    String(run.seed),
    "--epochs",
    String(run.epochs),
    "--out",
    run.dir,
  ];
}

/** How each `train` of an experiment runs: the same on this machine and on a cluster. */
export interface TrainSettings {
  backend: string;
  /** Threads of each training's wasm backend. */
  threads: number;
  /** train --simd. */
  simd: string;
  /** Passed to every `train`: --data and the split limits (smoke tests). */
  extraTrainArgs?: string[];
}

/**
 * The whole `binaryconnect` command line of a run: `train` with its settings from the start, or
 * `train --resume` from its last checkpoint (which continues it exactly; --resume takes only
 * --data of the extra arguments, the rest is in the checkpoint). The local runner, the Slurm
 * script and the Kubernetes job all run these arguments.
 */
export function runArgs(run: RunSpec, resume: boolean, s: TrainSettings): string[] {
  const common = ["--backend", s.backend, "--threads", String(s.threads), "--simd", s.simd];
  const extra = s.extraTrainArgs ?? [];
  const data = extra.indexOf("--data");
  return resume
    ? ["train", "--resume", run.dir, ...common, ...(data >= 0 ? extra.slice(data, data + 2) : [])]
    : ["train", ...trainArgs(run), ...common, ...extra];
}
