/**
 * `reproduce --on slurm`: the experiment as one Slurm job array (one task per method x seed),
 * each task running `binaryconnect train` for its run folder on storage every node sees.
 * Tasks that are finished (their run folder says so) or queued or running (squeue says so) are
 * never submitted again.
 */
import { createHash } from "node:crypto";
import { spawnSync } from "node:child_process";
import { accessSync, constants, mkdirSync } from "node:fs";
import { delimiter, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { SchedulerError } from "../core/errors.js";
import { writeFileAtomic } from "../train/checkpoint.js";
import { acquireLock, pathExists, readFileChecked } from "../train/fsio.js";
import { planRuns, type PlanOptions, type RunSpec, type TrainSettings } from "./plan.js";
import { runStatus, type RunStatus } from "./runStatus.js";
import { indexRanges, shellQuote, taskScript } from "./task.js";

/** The CLI entry point of this installation (this file is dist/src/reproduce/slurm.js). */
export const CLI_MAIN = fileURLToPath(new URL("../cli/main.js", import.meta.url));

export interface SlurmOptions {
  partition?: string;
  /** sbatch --time (minutes, or [D-]HH:MM:SS). */
  time?: string;
  cpusPerTask: number;
  gpus?: number;
  account?: string;
  /** More sbatch options, each written as its own #SBATCH line. */
  sbatchArgs?: string[];
  /** Tasks running at once (the array's %K); none: as many as the cluster gives. */
  parallel?: number;
  /**
   * Seconds before the time limit at which a task is told to stop (SIGUSR1): it checkpoints
   * and requeues itself.
   */
  signalSeconds: number;
  /** The words that start `binaryconnect` on the nodes (default: this node and this installation's CLI). */
  command?: string[];
}

export const SLURM_DIR = "slurm";
export const SBATCH_FILE = "sweep.sbatch";
export const JOBS_FILE = "jobs.json";

/** One sbatch submission of the experiment. */
export interface Submission {
  jobId: string;
  /** The array task ids (indices into the plan). */
  tasks: number[];
  submitted: string;
}

/** The job name of an experiment: the same for every submission of the same folder, distinct for another. */
export function jobName(o: PlanOptions): string {
  const hash = createHash("sha256").update(resolve(o.outDir)).digest("hex").slice(0, 8);
  return `bc-${o.dataset}-${o.budget}-${hash}`;
}

/** The plan with absolute run folders (the tasks run in another working directory). */
export function clusterPlan(o: PlanOptions): RunSpec[] {
  return planRuns({ ...o, outDir: resolve(o.outDir) });
}

/** DIR/slurm/sweep.sbatch: the array job of the whole plan (which tasks run is chosen at submission). */
export function sbatchScript(o: PlanOptions & TrainSettings, s: SlurmOptions): string {
  const plan = clusterPlan(o);
  const logs = join(resolve(o.outDir), SLURM_DIR, "logs");
  const directives = [
    `--job-name=${jobName(o)}`,
    `--output=${join(logs, "%A_%a.out")}`,
    "--open-mode=append",
    "--requeue",
    `--signal=B:USR1@${s.signalSeconds}`,
    "--ntasks=1",
    `--cpus-per-task=${s.cpusPerTask}`,
    ...(s.time ? [`--time=${s.time}`] : []),
    ...(s.partition ? [`--partition=${s.partition}`] : []),
    ...(s.account ? [`--account=${s.account}`] : []),
    ...(s.gpus ? [`--gpus=${s.gpus}`] : []),
    ...(s.sbatchArgs ?? []),
  ];
  return [
    "#!/bin/bash",
    `# binaryconnect reproduce ${o.dataset} (${o.budget} budget): one array task per run, ${plan.length} runs`,
    `# (task i trains the i-th run of ${join(resolve(o.outDir), "runs")}). Written by \`binaryconnect reproduce --on slurm\`,`,
    "# which submits the tasks not finished, queued or running: sbatch --array=LIST[%K] this-file",
    ...directives.map((d) => `#SBATCH ${d}`),
    "set -u",
    ...taskScript(plan, o, {
      indexVar: "SLURM_ARRAY_TASK_ID",
      command: s.command ?? [process.execPath, CLI_MAIN],
      requeueOnUsr1: true,
    }),
    "",
  ].join("\n");
}

/** Throws the SchedulerError of a missing Slurm command unless `command` is an executable on PATH. */
export function requireCommand(command: string): void {
  const dirs = (process.env.PATH ?? "").split(delimiter).filter(Boolean);
  for (const d of dirs) {
    try {
      accessSync(join(d, command), constants.X_OK);
      return;
    } catch {
      // not in this folder
    }
  }
  throw missing(command);
}

function missing(command: string): SchedulerError {
  return new SchedulerError(
    `--on slurm needs Slurm's ${command} on PATH; found no ${command} (PATH=${process.env.PATH ?? ""})`,
    "run the sweep on this machine instead: the same command without --on slurm; or write the job script only (--dry-run) and submit it with sbatch from a machine of the cluster",
  );
}

/** Runs a Slurm client command; a missing command is a SchedulerError that says how to run without Slurm. */
function slurm(command: string, args: string[], input?: string): string {
  const r = spawnSync(command, args, { encoding: "utf8", ...(input !== undefined ? { input } : {}) });
  if (r.error) {
    const code = (r.error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw missing(command);
    throw new SchedulerError(`could not run ${command}: ${r.error.message}`);
  }
  if (r.status !== 0)
    throw new SchedulerError(
      `${command} ${args.join(" ")} failed (exit status ${r.status}): ${r.stderr.trim() || r.stdout.trim()}`,
      command === "sbatch"
        ? "check the partition, time limit and account (--partition, --time, --account) against the cluster's (sinfo)"
        : "is the cluster's controller reachable from this machine? (sinfo)",
    );
  return r.stdout;
}

/** The states in which a task is still the scheduler's (queued, running or finishing). */
const ENDED = new Set([
  "COMPLETED",
  "FAILED",
  "CANCELLED",
  "TIMEOUT",
  "NODE_FAIL",
  "PREEMPTED",
  "BOOT_FAIL",
  "DEADLINE",
  "OUT_OF_MEMORY",
]);

export interface ActiveTask {
  /** The array task's id as squeue shows it: `<array job>_<task>`. */
  id: string;
  state: string;
  reason: string;
}

/** The experiment's array tasks the scheduler still holds (queued, running, completing), by task index. */
export function activeTasks(o: PlanOptions): Map<number, ActiveTask> {
  const out = slurm("squeue", ["--noheader", "--array", `--name=${jobName(o)}`, "--format=%F|%K|%T|%r"]);
  const tasks = new Map<number, ActiveTask>();
  for (const line of out.split("\n")) {
    const [job, task, state, reason] = line.trim().split("|");
    if (!job || !task || ENDED.has(state)) continue;
    for (const index of expandIndices(task)) tasks.set(index, { id: `${job}_${index}`, state, reason: reason ?? "" });
  }
  return tasks;
}

/** "3" or, for tasks not yet split from a pending array, "0-3%2" / "1,4-5". */
function expandIndices(text: string): number[] {
  const out: number[] = [];
  for (const part of text.split("%")[0].split(",")) {
    const [a, b] = part.split("-").map(Number);
    if (!Number.isInteger(a)) continue;
    for (let i = a; i <= (Number.isInteger(b) ? b : a); i++) out.push(i);
  }
  return out;
}

export function readSubmissions(outDir: string): Submission[] {
  const path = join(outDir, SLURM_DIR, JOBS_FILE);
  if (!pathExists(path)) return [];
  return JSON.parse(new TextDecoder().decode(readFileChecked(path, "read the submitted jobs"))) as Submission[];
}

export interface SubmitOutcome {
  script: string;
  /** The runs of the plan, with their states. */
  plan: { run: RunSpec; status: RunStatus; active?: ActiveTask }[];
  /** The task indices submitted now (or that would be, with dryRun). */
  submitted: number[];
  /** The sbatch command line (submitted, or to submit). */
  sbatch: string[];
  jobId?: string;
}

/**
 * Writes DIR/slurm/sweep.sbatch and submits the runs that are neither finished nor the
 * scheduler's already, as one array job. A lock on DIR/slurm keeps two submissions of the same
 * folder from overlapping.
 */
export function submitSlurm(o: PlanOptions & TrainSettings, s: SlurmOptions, dryRun: boolean): SubmitOutcome {
  if (!dryRun) for (const command of ["sbatch", "squeue"]) requireCommand(command);
  const dir = join(o.outDir, SLURM_DIR);
  mkdirSync(join(dir, "logs"), { recursive: true });
  const script = join(dir, SBATCH_FILE);
  const lock = dryRun ? undefined : acquireLock(join(dir, "submit.lock"), dir);
  try {
    writeFileAtomic(script, new TextEncoder().encode(sbatchScript(o, s)));
    const plan = clusterPlan(o).map((run) => ({ run, status: runStatus(run) }));
    const active = dryRun ? new Map<number, ActiveTask>() : activeTasks(o);
    const rows = plan.map((p, i) => ({ ...p, ...(active.has(i) ? { active: active.get(i) } : {}) }));
    const todo = rows.flatMap((p, i) => (p.status.state !== "finished" && !p.active ? [i] : []));
    const array = `${indexRanges(todo)}${s.parallel ? `%${s.parallel}` : ""}`;
    const sbatch = ["sbatch", "--parsable", `--array=${array}`, resolve(script)];
    if (dryRun || todo.length === 0) return { script, plan: rows, submitted: todo, sbatch };
    const jobId = slurm(sbatch[0], sbatch.slice(1)).trim().split(";")[0];
    const submissions = [...readSubmissions(o.outDir), { jobId, tasks: todo, submitted: new Date().toISOString() }];
    writeFileAtomic(join(dir, JOBS_FILE), new TextEncoder().encode(`${JSON.stringify(submissions, null, 2)}\n`));
    return { script, plan: rows, submitted: todo, sbatch, jobId };
  } finally {
    lock?.release();
  }
}

/** The sbatch command as one shell line. */
export function commandLine(words: string[]): string {
  return words.map(shellQuote).join(" ");
}

/** Each task's last outcome from sacct (state and exit code by task index), where accounting is enabled. */
export function accountedTasks(jobIds: string[]): Map<number, { id: string; state: string }> {
  const tasks = new Map<number, { id: string; state: string }>();
  if (jobIds.length === 0) return tasks;
  const r = spawnSync(
    "sacct",
    ["--noheader", "--parsable2", "-X", `--jobs=${jobIds.join(",")}`, "--format=JobID,State"],
    {
      encoding: "utf8",
    },
  );
  if (r.error || r.status !== 0) return tasks; // no sacct, or accounting disabled: the run folders and squeue tell enough
  for (const line of r.stdout.split("\n")) {
    const [id, state] = line.trim().split("|");
    const m = id?.match(/^(\d+)_(\d+)$/);
    if (m && state) tasks.set(Number(m[2]), { id, state: state.split(" ")[0] });
  }
  return tasks;
}

/** Whether squeue can be asked (Slurm's client on PATH and the controller answering). */
export function slurmAnswers(): boolean {
  const r = spawnSync("squeue", ["--noheader", "--me"], { encoding: "utf8", timeout: 15_000 });
  return !r.error && r.status === 0;
}
