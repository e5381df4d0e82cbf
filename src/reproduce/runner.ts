import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, existsSync, mkdirSync, readFileSync } from "node:fs";
import { cpus, hostname } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import type { SimdChoice } from "../backends/wasm/simd.js";
import { writeFileAtomic } from "../train/checkpoint.js";
import { LOCK_FILE } from "../train/runFolder.js";
import { planRuns, runArgs, type PlanOptions, type RunSpec, type TrainSettings } from "./plan.js";
import {
  resultsMarkdown,
  runResult,
  splitLimitOf,
  summarize,
  type ExperimentResults,
  type RunResult,
} from "./results.js";
import { runStatus } from "./runStatus.js";
import { sweepRecord, writeSweep } from "./sweep.js";

/** The CLI entry point the runs are started with (this file is dist/src/reproduce/runner.js). */
const CLI = fileURLToPath(new URL("../cli/main.js", import.meta.url));

export interface ReproduceOptions extends PlanOptions, TrainSettings {
  /** Trainings run at once, each as its own process. */
  parallel: number;
  /** The wasm backend's SIMD of each training (train --simd). */
  simd: SimdChoice;
  /** Where progress lines go (default: stdout). */
  log?: (line: string) => void;
  /**
   * Aborting stops the experiment: no new run starts, and the trainings under way receive the
   * signal named by the reason's `signal` (default SIGTERM), checkpoint where they are and exit
   * (stopTrainings sends them another, which stops them at once).
   */
  signal?: AbortSignal;
  /** Throws where the runs' data is not there (checked once, before the first run starts; none when every run is done). */
  checkData?: () => void;
}

export interface ReproduceOutcome {
  results: ExperimentResults;
  failed: string[];
  /** Each failed run's cause: the last error line of its train.log (null where it wrote none). */
  causes: Record<string, string | null>;
  /** The experiment was stopped (the signal): the runs under way were checkpointed, and the same command continues them. */
  stopped: string[];
}

/** The exit statuses of a `train` stopped by SIGINT / SIGTERM after its checkpoint (src/cli/train.ts). */
const STOPPED_CODES = [130, 143];

/** The trainings under way (all experiments of this process), for stopTrainings. */
const running = new Set<ChildProcess>();

/** Sends `signal` to every training under way (each checkpoints and exits; a second signal stops it at once). */
export function stopTrainings(signal: NodeJS.Signals): void {
  for (const child of running) child.kill(signal);
}

/**
 * Runs every run of the plan that has not finished: new ones from the start, interrupted ones
 * with `train --resume` from their last checkpoint (which continues them exactly), at most
 * `parallel` at a time; a run that another process trains now (its train.lock held) is left to
 * it. DIR/results.json and DIR/results.md are rewritten after every run (and
 * at the end), so an interrupted experiment still has its table so far. A failed run is
 * reported and the others go on.
 */
export async function reproduce(o: ReproduceOptions): Promise<ReproduceOutcome> {
  const log = o.log ?? ((line: string) => console.log(line));
  const plan = planRuns(o);
  mkdirSync(join(o.outDir, "runs"), { recursive: true });
  writeSweep(o.outDir, sweepRecord(o, "local"));
  const statuses = new Map(plan.map((run) => [run.name, runStatus(run)]));
  const finished = plan.filter((run) => statuses.get(run.name)!.state === "finished").length;
  // a run another process trains now (its train.lock held) is left to it
  const busy = plan.filter((run) => statuses.get(run.name)!.trainer);
  const todo = plan.filter((run) => statuses.get(run.name)!.state !== "finished" && !busy.includes(run));
  log(
    `${plan.length} runs (${finished} finished, ${busy.length ? `${busy.length} training in another process, ` : ""}${todo.filter((r) => statuses.get(r.name)!.state === "interrupted").length} to resume, ` +
      `${todo.filter((r) => statuses.get(r.name)!.state === "new").length} to start); ${o.parallel} at a time, ${o.threads} thread(s) each`,
  );
  if (todo.length > 0) o.checkData?.();
  for (const run of busy) {
    const t = statuses.get(run.name)!.trainer!;
    const stale =
      t.host === hostname() ? "" : ` (if nothing trains it there any more, delete ${join(run.dir, LOCK_FILE)})`;
    log(`${run.name}: left to process ${t.pid} on ${t.host}, which trains it now${stale}`);
  }
  const causes: Record<string, string | null> = {};
  const failed: string[] = [],
    stopped: string[] = [];
  let next = 0,
    started = 0;
  const onAbort = () =>
    stopTrainings((o.signal?.reason as { signal?: NodeJS.Signals } | undefined)?.signal ?? "SIGTERM");
  o.signal?.addEventListener("abort", onAbort, { once: true });
  const lane = async () => {
    while (next < todo.length && !o.signal?.aborted) {
      const run = todo[next++];
      const resume = statuses.get(run.name)!.state === "interrupted";
      const count = ++started;
      const code = await trainProcess(run, resume, o, log, (pid) =>
        log(
          `[${count}/${todo.length}] ${run.name}: ${resume ? "resuming" : "starting"} (${run.preset}, ${run.epochs} epochs; process ${pid})`,
        ),
      );
      if (o.signal?.aborted && STOPPED_CODES.includes(code)) {
        stopped.push(run.name);
        log(`${run.name}: stopped with a checkpoint; the same command continues it`);
      } else if (code !== 0) {
        failed.push(run.name);
        const cause = lastError(run.dir);
        causes[run.name] = cause;
        log(`${run.name}: FAILED (exit code ${code})${cause ? `: ${cause}` : ""}; see ${join(run.dir, "train.log")}`);
      } else {
        log(`${run.name}: finished`);
      }
      writeResults(o, plan, failed); // the table so far, after every run
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.max(1, o.parallel) }, lane));
  } finally {
    o.signal?.removeEventListener("abort", onAbort);
  }
  const results = writeResults(o, plan, failed);
  return { results, failed, causes, stopped };
}

/** Collects every run's state into results.json and results.md (atomically). */
export function writeResults(
  o: PlanOptions & { backend: string; machine?: string; extraTrainArgs?: readonly string[] },
  plan: RunSpec[] = planRuns(o),
  failed: string[] = [],
): ExperimentResults {
  const runs: RunResult[] = plan.map((run) => {
    const status = runStatus(run);
    return runResult(
      run,
      failed.includes(run.name) && status.state !== "finished" ? "failed" : status.state,
      status.records,
      backendOf(run.dir),
    );
  });
  const backends = [...new Set(runs.map((r) => r.backend).filter((b) => b !== null))];
  const limit = splitLimitOf(o.extraTrainArgs ?? []);
  const results: ExperimentResults = {
    dataset: o.dataset,
    budget: o.budget,
    preset: plan[0]?.preset ?? "",
    epochs: plan[0]?.epochs ?? 0,
    seeds: o.seeds,
    date: new Date().toISOString().slice(0, 10),
    machine: `${o.machine ?? `${cpus()[0]?.model.trim() ?? "unknown CPU"}, ${cpus().length} cores`}; ${backends.length ? backends.join(", ") : `backend ${o.backend}`}`,
    ...(limit ? { limit } : {}),
    methods: summarize(o.dataset, plan, runs),
  };
  writeFileAtomic(join(o.outDir, "results.json"), new TextEncoder().encode(`${JSON.stringify(results, null, 2)}\n`));
  writeFileAtomic(join(o.outDir, "results.md"), new TextEncoder().encode(resultsMarkdown(results)));
  return results;
}

/** The last error line ("error: ...") a run's `train` processes wrote to its train.log, or null. */
export function lastError(dir: string): string | null {
  const path = join(dir, "train.log");
  if (!existsSync(path)) return null;
  const lines = readFileSync(path, "utf8")
    .split("\n")
    .filter((l) => l.startsWith("error: "));
  return lines.at(-1) ?? null;
}

/** The backend a run's last `train` process reported in its train.log ("... on wasm (SIMD128, 1 thread); run folder ..."). */
function backendOf(dir: string): string | null {
  const path = join(dir, "train.log");
  if (!existsSync(path)) return null;
  const lines = readFileSync(path, "utf8")
    .split("\n")
    .filter((l) => l.startsWith("binaryconnect train: "));
  const match = lines.at(-1)?.match(/ on (.+?)(?: - auto: .*)?; run folder /);
  return match ? match[1] : null;
}

/**
 * Runs one `binaryconnect train` process; its output goes to the run's train.log, epoch lines
 * also to `log`. The process has an IPC channel to this one: when this process ends, however it
 * ends (even by SIGKILL), the channel closes and the training checkpoints and stops.
 */
function trainProcess(
  run: RunSpec,
  resume: boolean,
  o: ReproduceOptions,
  log: (line: string) => void,
  onStart: (pid: number | undefined) => void,
): Promise<number> {
  mkdirSync(run.dir, { recursive: true });
  const args = runArgs(run, resume, o);
  const logFile = createWriteStream(join(run.dir, "train.log"), { flags: "a" });
  logFile.write(`$ binaryconnect ${args.join(" ")}\n`);
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ["ignore", "pipe", "pipe", "ipc"] });
  running.add(child);
  onStart(child.pid);
  child.stderr!.pipe(logFile, { end: false });
  createInterface({ input: child.stdout! }).on("line", (line) => {
    logFile.write(`${line}\n`);
    if (line.startsWith("epoch ") || line.startsWith("done:")) log(`${run.name}: ${line}`);
  });
  return new Promise((resolve) => {
    child.on("error", (e) => {
      running.delete(child);
      logFile.end(`[could not start: ${e.message}]\n`);
      resolve(1);
    });
    child.on("close", (code, signal) => {
      running.delete(child);
      logFile.end(`[exit ${code ?? signal}]\n`);
      resolve(code ?? 1);
    });
  });
}
