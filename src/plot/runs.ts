import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { DataFormatError, OptionError } from "../core/errors.js";
import type { DatasetName, RunDataset, TrainConfig } from "../train/config.js";
import { parseMetrics } from "../train/runFolder.js";
import { BEST_FILE, CHECKPOINT_FILE, METRICS_FILE, type EpochRecord } from "../train/trainer.js";

/** The paper's method names (Table 2), by the method id of a reproduce folder's runs. */
export const METHOD_LABELS: Readonly<Record<string, string>> = {
  none: "No regularizer",
  det: "BinaryConnect (det.)",
  stoch: "BinaryConnect (stoch.)",
  dropout: "50% dropout",
};

/** One training run of a reproduce folder: DIR/runs/<method>-seed<k>/. */
export interface PlotRun {
  method: string;
  seed: number;
  dir: string;
  config: TrainConfig;
  /** The epochs done so far (a run in progress has fewer than config.epochs). */
  records: EpochRecord[];
  /** best.bin, else checkpoint.bin, else null (no epoch finished yet). */
  checkpoint: string | null;
}

/** The runs of a reproduce folder, grouped by method in the paper's order. */
export interface PlotInput {
  dataset: RunDataset;
  /** Method ids in display order: none, det, stoch, dropout, then any other id alphabetically. */
  methods: string[];
  labels: Record<string, string>;
  runs: PlotRun[];
}

const METHOD_ORDER = Object.keys(METHOD_LABELS);

/**
 * Reads a reproduce folder: every DIR/runs/<method>-seed<k>/ that has a metrics.jsonl (or,
 * when DIR itself is a run folder of `binaryconnect train`, that one run). Labels and the
 * dataset come from DIR/results.json where present, else from the paper's names and the
 * runs' config.json.
 */
export function readRuns(dir: string): PlotInput {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new OptionError(
      `${dir}: no such folder`,
      "pass the folder written by `binaryconnect reproduce` (or a run folder of `binaryconnect train`)",
    );
  }
  const runsDir = join(dir, "runs");
  const runs: PlotRun[] = [];
  if (existsSync(join(dir, METRICS_FILE))) {
    runs.push(readRun(dir, null));
  } else if (existsSync(runsDir)) {
    for (const name of readdirSync(runsDir).sort()) {
      const runDir = join(runsDir, name);
      if (existsSync(join(runDir, METRICS_FILE))) runs.push(readRun(runDir, name));
    }
  }
  if (runs.length === 0) {
    throw new OptionError(
      `${dir}: no runs to plot (expected ${join(dir, "runs", "<method>-seed<k>", METRICS_FILE)})`,
      "run `binaryconnect reproduce` into this folder first, or pass the folder it wrote",
    );
  }
  const results = readResults(dir);
  const labels: Record<string, string> = {};
  for (const r of runs) labels[r.method] = results.labels[r.method] ?? METHOD_LABELS[r.method] ?? r.method;
  const methods = [...new Set(runs.map((r) => r.method))].sort(byMethodOrder);
  runs.sort((a, b) => byMethodOrder(a.method, b.method) || a.seed - b.seed);
  return { dataset: results.dataset ?? runs[0].config.dataset, methods, labels, runs };
}

/** Paper order first (none, det, stoch, dropout), then the other ids alphabetically. */
function byMethodOrder(a: string, b: string): number {
  const rank = (m: string) => (METHOD_ORDER.includes(m) ? METHOD_ORDER.indexOf(m) : METHOD_ORDER.length);
  return rank(a) - rank(b) || a.localeCompare(b);
}

/**
 * One run folder. The method is the folder name before "-seed" (a folder of
 * `binaryconnect train`, `name` null, gets it from its config: mode, or "dropout").
 */
function readRun(dir: string, name: string | null): PlotRun {
  const configPath = join(dir, "config.json");
  if (!existsSync(configPath))
    throw new DataFormatError(
      `${dir}: has ${METRICS_FILE} but no config.json`,
      existsSync(join(dir, CHECKPOINT_FILE))
        ? `its ${CHECKPOINT_FILE} holds the configuration: \`binaryconnect train --resume ${dir}\` writes config.json again`
        : "the run folder is incomplete; rerun it",
    );
  const config = parseJson<TrainConfig>(readFileSync(configPath, "utf8"), configPath);
  const match = name ? /^(.+)-seed(\d+)$/.exec(name) : null;
  const method = match
    ? match[1]
    : (name ?? (config.mode === "none" && config.dropout.hidden > 0 ? "dropout" : config.mode));
  const seed = match ? Number(match[2]) : config.seed;
  const checkpoint = [BEST_FILE, CHECKPOINT_FILE].map((f) => join(dir, f)).find((p) => existsSync(p)) ?? null;
  return { method, seed, dir, config, records: readMetrics(join(dir, METRICS_FILE)), checkpoint };
}

/**
 * The records of a metrics.jsonl, checked as a run folder reads them (src/train/runFolder.ts): the
 * last line of a run in progress may be half written and is left out; a line anywhere else
 * that is not an epoch's record is an error.
 */
export function readMetrics(path: string): EpochRecord[] {
  return parseMetrics(readFileSync(path, "utf8"), path);
}

/** The dataset and method labels of DIR/results.json, or nothing where the file is absent. */
function readResults(dir: string): { dataset?: DatasetName; labels: Record<string, string> } {
  const path = join(dir, "results.json");
  if (!existsSync(path)) return { labels: {} };
  const results = parseJson<{ dataset?: DatasetName; methods?: { method: string; label?: string }[] }>(
    readFileSync(path, "utf8"),
    path,
  );
  const labels: Record<string, string> = {};
  for (const m of results.methods ?? []) if (m.label) labels[m.method] = m.label;
  return { dataset: results.dataset, labels };
}

function parseJson<T>(text: string, path: string): T {
  try {
    return JSON.parse(text) as T;
  } catch (e) {
    throw new DataFormatError(`${path}: not valid JSON (${(e as Error).message})`);
  }
}
