/**
 * `reproduce status DIR`: each run's state from its folder and, for a sweep sent to Slurm, the
 * scheduler's view (squeue for the tasks it holds, sacct for the ones that ended, where
 * accounting is enabled).
 */
import { hostname } from "node:os";
import { planRuns, type RunSpec } from "./plan.js";
import { duration } from "./results.js";
import { runStatus, type RunStatus } from "./runStatus.js";
import { accountedTasks, activeTasks, readSubmissions, slurmAnswers } from "./slurm.js";
import { readSweep, type SweepRecord } from "./sweep.js";

export interface RunRow {
  index: number;
  run: RunSpec;
  status: RunStatus;
  /** The scheduler's state of the run's task: "RUNNING (job 12_3)", "PENDING (job 12_3, BeginTime)", "FAILED (job 12_3)". */
  scheduler?: string;
}

export interface SweepStatus {
  sweep: SweepRecord & { outDir: string };
  rows: RunRow[];
  /** Why the scheduler was not asked (not a Slurm sweep, no squeue, no controller). */
  schedulerNote?: string;
  jobIds: string[];
}

export function sweepStatus(outDir: string): SweepStatus {
  const sweep = readSweep(outDir);
  const plan = planRuns(sweep);
  const rows: RunRow[] = plan.map((run, index) => ({ index, run, status: runStatus(run) }));
  const jobIds = readSubmissions(outDir).map((s) => s.jobId);
  let schedulerNote: string | undefined;
  if (sweep.on === "slurm") {
    if (slurmAnswers()) {
      const active = activeTasks(sweep);
      const ended = accountedTasks(jobIds);
      for (const row of rows) {
        const a = active.get(row.index);
        const e = ended.get(row.index);
        if (a) row.scheduler = `${a.state} (job ${a.id}${a.reason && a.reason !== "None" ? `, ${a.reason}` : ""})`;
        else if (e) row.scheduler = `${e.state} (job ${e.id})`;
      }
    } else {
      schedulerNote = "squeue did not answer here: the states are the run folders' only";
    }
  }
  return { sweep, rows, jobIds, ...(schedulerNote ? { schedulerNote } : {}) };
}

/** Who trains a run now: its scheduler task, or the process that holds its train.lock. */
function trainerNote(r: RunRow): string {
  if (r.scheduler) return r.scheduler;
  const t = r.status.trainer;
  if (!t) return "-";
  return t.host === hostname() ? `pid ${t.pid}` : `${t.host}, pid ${t.pid}`;
}

/** The status as text lines. */
export function statusLines(s: SweepStatus): string[] {
  const { sweep, rows } = s;
  const lines = [
    `${s.sweep.outDir}: ${sweep.dataset}, ${sweep.budget} budget, ${rows.length} runs on ${sweep.on}${s.jobIds.length ? ` (jobs ${s.jobIds.join(", ")})` : ""}`,
  ];
  const width = Math.max(...rows.map((r) => r.run.name.length), 3);
  for (const r of rows) {
    const done = r.status.records.at(-1)?.epoch ?? 0;
    const seconds = r.status.records.reduce((a, x) => a + x.seconds, 0);
    const folder = `${r.status.trainer ? "training" : r.status.state} ${done}/${r.run.epochs} epochs${done ? `, ${duration(seconds)}` : ""}`;
    lines.push(
      `  ${String(r.index).padStart(3)}  ${r.run.name.padEnd(width)}  ${folder.padEnd(30)}  ${trainerNote(r)}`,
    );
  }
  const training = rows.filter((r) => r.status.trainer).length;
  const count = (state: string) => rows.filter((r) => r.status.state === state && !r.status.trainer).length;
  const running = rows.filter((r) => r.scheduler?.startsWith("RUNNING")).length;
  const queued = rows.filter((r) => r.scheduler?.startsWith("PENDING")).length;
  lines.push(
    `${count("finished")} finished, ${training} training, ${count("interrupted")} with a checkpoint, ${count("new")} not started` +
      (sweep.on === "slurm" && !s.schedulerNote ? `; ${running} running, ${queued} queued` : ""),
  );
  if (s.schedulerNote) lines.push(s.schedulerNote);
  return lines;
}
