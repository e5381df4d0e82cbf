// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the strings are bash, whose ${...} is meant
/**
 * The shell text every cluster task runs: picks its run by an index (Slurm's array task id,
 * Kubernetes' completion index), starts `binaryconnect train` with the local runner's arguments
 * (`train` from the start, or `train --resume` where the run folder holds a checkpoint), and
 * appends its output to the run's train.log as the local runner does.
 */
import { runArgs, type RunSpec, type TrainSettings } from "./plan.js";

/** `s` as one shell word. */
export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`;
}

const words = (xs: string[]) => xs.map(shellQuote).join(" ");

/** Array task ids as Slurm's --array list: "0-3,5,7-8". */
export function indexRanges(indices: number[]): string {
  const sorted = [...new Set(indices)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++;
    parts.push(i === j ? String(sorted[i]) : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(",");
}

export interface TaskScriptOptions {
  /** The shell variable holding the task's index (SLURM_ARRAY_TASK_ID, JOB_COMPLETION_INDEX). */
  indexVar: string;
  /** The words that start `binaryconnect` on the node (node and the CLI's main.js). */
  command: string[];
  /**
   * Slurm: SIGUSR1 is the warning before the time limit (sbatch --signal=B:USR1@T); the training
   * checkpoints and the task requeues itself, so that its next attempt resumes the run.
   */
  requeueOnUsr1: boolean;
}

/** The lines of the task body (bash). */
export function taskScript(plan: RunSpec[], s: TrainSettings, o: TaskScriptOptions): string[] {
  const lines = [
    `BINARYCONNECT=(${words(o.command)})`,
    `INDEX="\${${o.indexVar}:?this script runs one task of a sweep: ${o.indexVar} is not set}"`,
    `case "$INDEX" in`,
  ];
  plan.forEach((run, i) => {
    lines.push(
      `${i}) # ${run.name}`,
      `  RUN=${shellQuote(run.dir)}`,
      `  START=(${words(runArgs(run, false, s))})`,
      `  RESUME=(${words(runArgs(run, true, s))}) ;;`,
    );
  });
  lines.push(
    `*) echo "no run has index $INDEX (this sweep has 0-${plan.length - 1})" >&2; exit 2 ;;`,
    "esac",
    'mkdir -p "$RUN"',
    "# a checkpoint: an earlier attempt was stopped (time limit, preemption, a signal) - continue it exactly",
    'if [ -f "$RUN/checkpoint.bin" ]; then ARGS=("${RESUME[@]}"); else ARGS=("${START[@]}"); fi',
    ...(o.requeueOnUsr1
      ? ['echo "task $INDEX on $(hostname), attempt $((${SLURM_RESTART_COUNT:-0} + 1)): binaryconnect ${ARGS[*]}"']
      : ['echo "task $INDEX on $(hostname): binaryconnect ${ARGS[*]}"']),
    'echo "\\$ binaryconnect ${ARGS[*]}" >>"$RUN/train.log"',
    "# signals reach the training, which checkpoints at its current step and exits 143",
    'pid=""',
    ...(o.requeueOnUsr1 ? ["requeue=0", `trap 'requeue=1; kill -TERM "$pid" 2>/dev/null' USR1`] : []),
    `trap 'kill -TERM "$pid" 2>/dev/null' TERM`,
    `trap 'kill -INT "$pid" 2>/dev/null' INT`,
    '"${BINARYCONNECT[@]}" "${ARGS[@]}" >>"$RUN/train.log" 2>&1 &',
    "pid=$!",
    'wait "$pid"',
    'while kill -0 "$pid" 2>/dev/null; do wait "$pid"; done',
    'wait "$pid"',
    "code=$?",
    'echo "[exit $code]" >>"$RUN/train.log"',
  );
  if (o.requeueOnUsr1)
    lines.push(
      'if [ "$requeue" = 1 ] && [ "$code" = 143 ]; then',
      '  if scontrol requeue "$SLURM_JOB_ID"; then',
      '    echo "stopped before the time limit with a checkpoint; requeued: the next attempt resumes the run"',
      "    exit 0",
      "  fi",
      '  echo "stopped before the time limit with a checkpoint; scontrol requeue failed: the same reproduce command resubmits the run" >&2',
      "fi",
    );
  lines.push('echo "task $INDEX: exit $code"', 'exit "$code"');
  return lines;
}
