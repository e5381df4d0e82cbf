import type { DatasetName } from "./plan.js";
import type { EpochRecord } from "../train/trainer.js";
import { PAPER_RESULTS, type Budget, type MethodId, type RunSpec } from "./plan.js";
import type { RunState } from "./runStatus.js";

/** One run's outcome. Errors in percent. */
export interface RunResult {
  name: string;
  seed: number;
  state: RunState | "failed";
  epochsDone: number;
  epochs: number;
  /** Test error at the epoch of best validation error (the paper's protocol, section 3). */
  testError: number | null;
  valError: number | null;
  bestEpoch: number | null;
  /** Wall time of the epochs done, seconds (training + evaluation). */
  seconds: number;
  /** The backend the run's last `train` process used, as it printed it (null: not started). */
  backend: string | null;
}

export interface MethodResult {
  method: MethodId;
  label: string;
  /** Over the finished runs; std is the sample standard deviation (n - 1), null below 2 runs. */
  mean: number | null;
  std: number | null;
  finished: number;
  paper: { mean: number; std?: number } | null;
  runs: RunResult[];
}

export interface ExperimentResults {
  dataset: DatasetName;
  budget: Budget;
  preset: string;
  epochs: number;
  seeds: number;
  /** ISO date the results were written. */
  date: string;
  /** The machine (CPU model, cores) and backend the runs used. */
  machine: string;
  /** The split limits the runs trained with (--train-size, --val-size, --test-size), where any was given. */
  limit?: { train?: number; validation?: number; test?: number };
  methods: MethodResult[];
}

/** The split limits among `train`'s extra arguments (reproduce passes --train-size N and the like through). */
export function splitLimitOf(args: readonly string[]): ExperimentResults["limit"] {
  const value = (flag: string) => {
    const i = args.indexOf(flag);
    return i >= 0 && i + 1 < args.length ? Number(args[i + 1]) : undefined;
  };
  const limit = { train: value("--train-size"), validation: value("--val-size"), test: value("--test-size") };
  const given = Object.entries(limit).filter(([, v]) => v !== undefined);
  return given.length ? Object.fromEntries(given) : undefined;
}

/** A run's result from its epoch records. */
export function runResult(
  run: RunSpec,
  state: RunResult["state"],
  records: EpochRecord[],
  backend: string | null,
): RunResult {
  const last = records.at(-1);
  const best = last ? records.find((r) => r.epoch === last.best_epoch) : undefined;
  return {
    name: run.name,
    seed: run.seed,
    state,
    epochsDone: last?.epoch ?? 0,
    epochs: run.epochs,
    testError: last && Number.isFinite(last.test_error) ? 100 * last.test_error : null,
    valError: best ? 100 * best.val_error : null,
    bestEpoch: last?.best_epoch ?? null,
    seconds: records.reduce((s, r) => s + r.seconds, 0),
    backend,
  };
}

/** Mean and sample standard deviation. */
export function meanStd(xs: number[]): { mean: number | null; std: number | null } {
  if (xs.length === 0) return { mean: null, std: null };
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  if (xs.length < 2) return { mean, std: null };
  const variance = xs.reduce((a, x) => a + (x - mean) ** 2, 0) / (xs.length - 1);
  return { mean, std: Math.sqrt(variance) };
}

/** Groups run results by method, in the order of the plan. */
export function summarize(dataset: DatasetName, plan: RunSpec[], results: RunResult[]): MethodResult[] {
  const byName = new Map(results.map((r) => [r.name, r]));
  const methods: MethodResult[] = [];
  for (const run of plan) {
    let m = methods.find((x) => x.method === run.method.id);
    if (!m) {
      m = {
        method: run.method.id,
        label: run.method.label,
        mean: null,
        std: null,
        finished: 0,
        paper: PAPER_RESULTS[dataset][run.method.id] ?? null,
        runs: [],
      };
      methods.push(m);
    }
    const r = byName.get(run.name);
    if (r) m.runs.push(r);
  }
  for (const m of methods) {
    const errors = m.runs.filter((r) => r.state === "finished" && r.testError !== null).map((r) => r.testError!);
    Object.assign(m, meanStd(errors), { finished: errors.length });
  }
  return methods;
}

const pct = (x: number | null, digits = 2) => (x === null ? "-" : `${x.toFixed(digits)} %`);
const meanStdText = (mean: number | null, std: number | null | undefined) =>
  mean === null ? "-" : std === null || std === undefined ? pct(mean) : `${mean.toFixed(2)} +- ${std.toFixed(2)} %`;

/** Seconds as "1 h 02 min" / "12 min" / "40 s". */
export function duration(seconds: number): string {
  if (seconds < 60) return `${Math.round(seconds)} s`;
  const minutes = Math.round(seconds / 60);
  return minutes < 60 ? `${minutes} min` : `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, "0")} min`;
}

/** The note on a limited experiment: its errors are not comparable with the paper's. */
function limitText(limit: NonNullable<ExperimentResults["limit"]>): string {
  const parts = [
    limit.train !== undefined ? `${limit.train} training` : "",
    limit.validation !== undefined ? `${limit.validation} validation` : "",
    limit.test !== undefined ? `${limit.test} test` : "",
  ].filter(Boolean);
  const list = parts.length > 1 ? `${parts.slice(0, -1).join(", ")} and ${parts.at(-1)}` : parts[0];
  return `**Limited data**: the runs used only the first ${list} examples of the splits (--train-size, --val-size, --test-size): a trial of the commands, not comparable with the paper's figures.`;
}

/** results.md: the table side by side with the paper's, then every run. */
export function resultsMarkdown(x: ExperimentResults): string {
  const lines = [
    `# ${x.dataset}: the paper's Table 2, ${x.budget} budget`,
    "",
    `Preset ${x.preset}, ${x.epochs} ${x.epochs === 1 ? "epoch" : "epochs"}, seeds 1-${x.seeds}. Test error at the epoch of best validation error, ` +
      `mean +- sample std over the finished seeds. Machine: ${x.machine}. Written ${x.date}.`,
    "",
    ...(x.limit ? [limitText(x.limit), ""] : []),
    "| method | test error (ours) | runs finished | paper | epochs | wall time per run |",
    "|---|---|---|---|---|---|",
  ];
  for (const m of x.methods) {
    const finished = m.runs.filter((r) => r.state === "finished");
    const wall = finished.length ? duration(finished.reduce((s, r) => s + r.seconds, 0) / finished.length) : "-";
    lines.push(
      `| ${m.label} | ${meanStdText(m.mean, m.std)} | ${m.finished}/${m.runs.length} | ${m.paper ? meanStdText(m.paper.mean, m.paper.std) : "-"} | ${x.epochs} | ${wall} |`,
    );
  }
  lines.push(
    "",
    "## Runs",
    "",
    "| run | state | epochs done | best epoch | validation error | test error | wall time | backend |",
    "|---|---|---|---|---|---|---|---|",
  );
  for (const m of x.methods) {
    for (const r of m.runs) {
      lines.push(
        `| ${r.name} | ${r.state} | ${r.epochsDone}/${r.epochs} | ${r.bestEpoch ?? "-"} | ${pct(r.valError)} | ${pct(r.testError)} | ${duration(r.seconds)} | ${r.backend ?? "-"} |`,
      );
    }
  }
  return `${lines.join("\n")}\n`;
}
