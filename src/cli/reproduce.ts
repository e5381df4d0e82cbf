import { availableParallelism } from "node:os";
import { join, resolve } from "node:path";
import { Command, InvalidArgumentError, Option } from "commander";
import { BACKEND_NAMES } from "../backends/index.js";
import type { SimdChoice } from "../backends/wasm/simd.js";
import { BinaryConnectError, OptionError } from "../core/errors.js";
import { defaultCacheDir } from "../data/cache.js";
import { preparedCifar10File } from "../data/cifar10Prepare.js";
import { preparedSvhnFile } from "../data/svhnPrepare.js";
import { k8sJobName, podOutDir, writeIndexedJob } from "../reproduce/k8s.js";
import { PAPER_DATASETS as DATASET_NAMES, type DatasetName } from "../reproduce/plan.js";
import {
  BUDGETS,
  METHODS,
  type Budget,
  type MethodId,
  type PlanOptions,
  type TrainSettings,
} from "../reproduce/plan.js";
import { reproduce, stopTrainings, writeResults } from "../reproduce/runner.js";
import { commandLine, jobName, readSubmissions, submitSlurm } from "../reproduce/slurm.js";
import { statusLines, sweepStatus } from "../reproduce/status.js";
import { checkSweepFolder, EXECUTORS, readSweep, sweepRecord, writeSweep, type Executor } from "../reproduce/sweep.js";
import { indexRanges } from "../reproduce/task.js";
import { integer, oneOf, path } from "./parse.js";
import { STOPPED_EXIT_CODES } from "./train.js";
import { simdOption } from "./wasmOptions.js";

interface ReproduceCliOptions {
  budget: Budget;
  seeds: number;
  parallel?: number;
  threads?: number;
  simd: SimdChoice;
  backend: string;
  out?: string;
  epochs?: number;
  methods?: MethodId[];
  data?: string;
  trainSize?: number;
  valSize?: number;
  testSize?: number;
  on: Executor;
  dryRun?: boolean;
  partition?: string;
  time?: string;
  cpusPerTask?: number;
  gpus?: number;
  account?: string;
  sbatchArg: string[];
  signalBefore: number;
  image: string;
  pvc?: string;
  mount: string;
  retries: number;
}

/** `binaryconnect reproduce`: every method of the paper's table for a dataset, N seeds, resumable. */
export function reproduceCommand(): Command {
  return new Command("reproduce")
    .description(
      "train every method of the paper's table (section 3) for a dataset and N seeds; resumable (finished runs are skipped, interrupted ones resume); writes DIR/results.json and DIR/results.md",
    )
    .argument("<dataset>", `one of ${DATASET_NAMES.join(", ")}`, oneOf(DATASET_NAMES))
    .addOption(
      new Option(
        "--budget <budget>",
        "quick: schedules that fit a 2-core machine (MNIST: 20 epochs; CIFAR-10/SVHN: quarter-width networks); paper: the paper's presets",
      )
        .default("quick")
        .argParser(oneOf(BUDGETS)),
    )
    .addOption(new Option("--seeds <n>", "seeds per method (1..n)").default(3).argParser(integer(1)))
    .addOption(
      new Option(
        "--parallel <n>",
        "trainings at once, each its own process (default 1); on a cluster: tasks at once (default: as many as it gives)",
      ).argParser(integer(1)),
    )
    .addOption(
      new Option("--threads <n>", "threads of each training (default: cores / parallel, at least 1)").argParser(
        integer(1),
      ),
    )
    .addOption(simdOption())
    .addOption(
      new Option("--backend <name>", "compute backend of the trainings")
        .default("auto")
        .argParser(oneOf(BACKEND_NAMES)),
    )
    .addOption(new Option("--out <dir>", "experiment folder (default: reproduce/<dataset>-<budget>)").argParser(path))
    .addOption(new Option("--epochs <n>", "override the budget's epochs").argParser(integer(1)))
    .addOption(
      new Option(
        "--methods <list>",
        `comma-separated subset of ${Object.keys(METHODS).join(", ")} (default: the dataset's table)`,
      ).argParser(methodList),
    )
    .addOption(new Option("--data <dir>", "passed to train --data").argParser(path))
    .addOption(new Option("--train-size <n>", "passed to train (smoke tests)").argParser(integer(1)))
    .addOption(new Option("--val-size <n>", "passed to train (smoke tests)").argParser(integer(1)))
    .addOption(new Option("--test-size <n>", "passed to train (smoke tests)").argParser(integer(1)))
    .addOption(
      new Option(
        "--on <where>",
        "where the runs train: local (processes here), slurm (one job array, submitted with sbatch), k8s (writes a Kubernetes Indexed Job)",
      )
        .default("local")
        .argParser(oneOf(EXECUTORS)),
    )
    .addOption(
      new Option("--dry-run", "slurm: write DIR/slurm/sweep.sbatch and print the sbatch command, submit nothing"),
    )
    .addOption(new Option("--partition <name>", "slurm: the partition (sbatch --partition)"))
    .addOption(new Option("--time <limit>", "slurm: each task's time limit (sbatch --time: minutes or [D-]HH:MM:SS)"))
    .addOption(
      new Option("--cpus-per-task <n>", "slurm, k8s: CPUs of each task (default: --threads, else 1)").argParser(
        integer(1),
      ),
    )
    .addOption(new Option("--gpus <n>", "slurm, k8s: GPUs of each task").argParser(integer(1)))
    .addOption(new Option("--account <name>", "slurm: the account to charge (sbatch --account)"))
    .addOption(
      new Option(
        "--sbatch-arg <arg>",
        "slurm: another sbatch option for the script, e.g. --sbatch-arg=--qos=long (repeatable)",
      )
        .default([], "none")
        .argParser((v: string, prev: string[]) => [...prev, v]),
    )
    .addOption(
      new Option(
        "--signal-before <seconds>",
        "slurm: seconds before the time limit at which a task checkpoints and requeues itself; k8s: the pods' termination grace period",
      )
        .default(120)
        .argParser(integer(10, 65535)),
    )
    .addOption(
      new Option("--image <name>", "k8s: the container image (the repository's Dockerfile)").default(
        "binaryconnect:latest",
      ),
    )
    .addOption(
      new Option("--pvc <claim>", "k8s: the PersistentVolumeClaim holding the run folders (required with --on k8s)"),
    )
    .addOption(new Option("--mount <path>", "k8s: where the claim is mounted in the pods").default("/runs"))
    .addOption(
      new Option("--retries <n>", "k8s: failed pods per run before it is given up (evictions do not count)")
        .default(3)
        .argParser(integer(0)),
    )
    .action(async (dataset: DatasetName, o: ReproduceCliOptions, cmd: Command) => {
      checkExecutorOptions(cmd, o.on);
      const outDir = o.out ?? join("reproduce", `${dataset}-${o.budget}`);
      const extraTrainArgs = [
        ...(o.data ? ["--data", o.on === "slurm" ? resolve(o.data) : o.data] : []),
        ...(o.trainSize ? ["--train-size", String(o.trainSize)] : []),
        ...(o.valSize ? ["--val-size", String(o.valSize)] : []),
        ...(o.testSize ? ["--test-size", String(o.testSize)] : []),
      ];
      // the sweep and each training's settings, the same on every scheduler (threads: per training)
      const sweep = (threads: number) => ({
        dataset,
        budget: o.budget,
        seeds: o.seeds,
        outDir,
        epochs: o.epochs,
        methods: o.methods,
        threads,
        simd: o.simd,
        backend: o.backend,
        extraTrainArgs,
      });
      if (o.on !== "local") {
        const cpusPerTask = o.cpusPerTask ?? o.threads ?? 1;
        const settings = sweep(o.threads ?? cpusPerTask);
        if (o.on === "slurm") submitToSlurm(settings, o, cpusPerTask);
        else writeK8s(settings, o, cpusPerTask);
        return;
      }
      const parallel = o.parallel ?? 1;
      const threads = o.threads ?? Math.max(1, Math.floor(availableParallelism() / parallel));
      const stop = stopOnSignals();
      let outcome: Awaited<ReturnType<typeof reproduce>>;
      try {
        outcome = await reproduce({
          ...sweep(threads),
          parallel,
          signal: stop.signal,
          checkData: () => checkPrepared(dataset, o.data),
        });
      } finally {
        stop.dispose();
      }
      const { failed, causes: failureCauses, stopped } = outcome;
      console.log(
        `wrote ${join(outDir, "results.json")} and ${join(outDir, "results.md")}; the figures: binaryconnect plot ${outDir}`,
      );
      if (stop.signal.aborted) {
        const signal = (stop.signal.reason as { signal: "SIGINT" | "SIGTERM" }).signal;
        console.log(
          `stopped (${signal})${stopped.length ? `: ${stopped.join(", ")} checkpointed` : ""}; run the same command again to continue`,
        );
        process.exitCode = STOPPED_EXIT_CODES[signal];
        return;
      }
      if (failed.length) {
        const causes = new Set(failed.map((name) => failureCauses[name]));
        const [cause] = causes;
        throw new BinaryConnectError(
          `${failed.length} run(s) failed: ${failed.join(", ")}${causes.size === 1 && cause ? `; each with ${cause}` : ""}`,
          "see each run's train.log; run the same command again to retry them",
        );
      }
    })
    .addCommand(statusCommand())
    .addCommand(collectCommand());
}

type Settings = PlanOptions & TrainSettings;

/** The options that only a scheduler takes, and which ones (given with another --on, they would be silently ignored). */
const EXECUTOR_OPTIONS: Record<string, readonly Executor[]> = {
  "--dry-run": ["slurm"],
  "--partition": ["slurm"],
  "--time": ["slurm"],
  "--account": ["slurm"],
  "--sbatch-arg": ["slurm"],
  "--cpus-per-task": ["slurm", "k8s"],
  "--gpus": ["slurm", "k8s"],
  "--signal-before": ["slurm", "k8s"],
  "--image": ["k8s"],
  "--pvc": ["k8s"],
  "--mount": ["k8s"],
  "--retries": ["k8s"],
};

function checkExecutorOptions(cmd: Command, on: Executor): void {
  const given = cmd.options
    .filter((opt) => cmd.getOptionValueSource(opt.attributeName()) === "cli")
    .map((opt) => opt.long!);
  const misplaced = given.filter((name) => EXECUTOR_OPTIONS[name] && !EXECUTOR_OPTIONS[name].includes(on));
  if (misplaced.length)
    throw new OptionError(
      `${misplaced.map((n) => `${n} (${EXECUTOR_OPTIONS[n].join(", ")})`).join(", ")} ${misplaced.length === 1 ? "is" : "are"} not for --on ${on}`,
      on === "local"
        ? "add --on slurm or --on k8s to send the runs to a cluster"
        : "leave them out, or choose the --on they are for",
    );
}

/** --on slurm: writes the job script and submits the runs neither finished nor queued/running. */
function submitToSlurm(settings: Settings, o: ReproduceCliOptions, cpusPerTask: number): void {
  // a folder of another experiment is refused before anything is written or submitted
  const record = sweepRecord(settings, "slurm");
  checkSweepFolder(settings.outDir, record);
  const out = submitSlurm(
    settings,
    {
      partition: o.partition,
      time: o.time,
      cpusPerTask,
      gpus: o.gpus,
      account: o.account,
      sbatchArgs: o.sbatchArg,
      parallel: o.parallel,
      signalSeconds: o.signalBefore,
    },
    o.dryRun ?? false,
  );
  // a dry run's record too: `reproduce status` and `collect` read it once the script has been submitted by hand
  writeSweep(settings.outDir, record);
  const finished = out.plan.filter((p) => p.status.state === "finished").length;
  const active = out.plan.filter((p) => p.active);
  console.log(
    `${out.plan.length} runs: ${finished} finished, ${active.length} queued or running${active.length ? ` (${active.map((p) => `${p.run.name}: ${p.active!.state} ${p.active!.id}`).join(", ")})` : ""}, ${out.submitted.length} to submit`,
  );
  console.log(`wrote ${out.script}`);
  const dir = settings.outDir;
  if (o.dryRun) {
    if (out.submitted.length) console.log(`to submit: ${commandLine(out.sbatch)}`);
    return;
  }
  if (out.jobId) {
    const names = out.submitted.map((i) => out.plan[i].run.name);
    console.log(`submitted job ${out.jobId}: array tasks ${indexRanges(out.submitted)} (${names.join(", ")})`);
  } else {
    console.log("nothing to submit");
  }
  console.log(
    `follow it: binaryconnect reproduce status ${dir} (squeue --name=${jobName(settings)}); ` +
      `each run's output: ${join(dir, "runs", "<run>", "train.log")}, each task's: ${join(dir, "slurm", "logs")}\n` +
      `the table once they are done: binaryconnect reproduce collect ${dir}; the same command again submits what is left`,
  );
}

/** --on k8s: writes the Indexed Job (not applied). */
function writeK8s(settings: Settings, o: ReproduceCliOptions, cpusPerTask: number): void {
  if (!o.pvc)
    throw new OptionError(
      "--on k8s needs --pvc: the PersistentVolumeClaim that holds the run folders; found none",
      "create a claim (ReadWriteMany when pods may run on several nodes) and pass its name: --pvc NAME",
    );
  const k = {
    image: o.image,
    pvc: o.pvc,
    mountPath: o.mount,
    parallel: o.parallel,
    cpusPerTask,
    gpus: o.gpus,
    gracePeriodSeconds: o.signalBefore,
    retries: o.retries,
  };
  const record = sweepRecord(settings, "k8s");
  checkSweepFolder(settings.outDir, record);
  const { path, plan } = writeIndexedJob(settings, k);
  writeSweep(settings.outDir, record);
  const inPods = podOutDir(settings, k);
  console.log(`wrote ${path}: an Indexed Job of ${plan.length} runs (image ${o.image}, claim ${o.pvc} at ${o.mount})`);
  console.log(
    `the runs train in ${inPods} on the claim: kubectl apply -f ${path}; follow it: kubectl get job ${k8sJobName(settings)}\n` +
      `the table: copy ${inPods} from the claim to ${settings.outDir} (kubectl cp) and run binaryconnect reproduce collect ${settings.outDir}`,
  );
}

/** `reproduce status DIR`. */
function statusCommand(): Command {
  return new Command("status")
    .description(
      "each run's state from its folder and, for a sweep on Slurm, the scheduler's (squeue; sacct where accounting is on)",
    )
    .argument("<dir>", "the experiment folder (reproduce --out)", path)
    .action((dir: string) => {
      for (const line of statusLines(sweepStatus(dir))) console.log(line);
    });
}

/** `reproduce collect DIR`: results.json and results.md from the run folders, as the local runner writes them. */
function collectCommand(): Command {
  return new Command("collect")
    .description("write DIR/results.json and DIR/results.md from the run folders (as a local reproduce does)")
    .argument("<dir>", "the experiment folder (reproduce --out)", path)
    .action((dir: string) => {
      const sweep = readSweep(dir);
      const jobs = readSubmissions(dir).map((s) => s.jobId);
      const results = writeResults({
        ...sweep,
        ...(sweep.on === "slurm" ? { machine: `Slurm${jobs.length ? ` (jobs ${jobs.join(", ")})` : ""}` } : {}),
        ...(sweep.on === "k8s" ? { machine: "Kubernetes" } : {}),
      });
      const finished = results.methods.reduce((a, m) => a + m.finished, 0);
      const total = results.methods.reduce((a, m) => a + m.runs.length, 0);
      console.log(
        `${finished}/${total} runs finished; wrote ${join(dir, "results.json")} and ${join(dir, "results.md")}; the figures: binaryconnect plot ${dir}`,
      );
    });
}

/**
 * SIGINT / SIGTERM stop the experiment: no new run starts, and each training under way gets the
 * signal, checkpoints where it is and exits (a repeat after a second stops them at once). A
 * training also stops when this process ends otherwise (its IPC channel closes).
 */
function stopOnSignals(): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  let first = 0;
  const stop = (signal: "SIGINT" | "SIGTERM") => {
    if (!controller.signal.aborted) {
      first = Date.now();
      console.error(
        `\n${signal} received: stopping the trainings under way after their current step, with a checkpoint there (again stops them at once)`,
      );
      controller.abort({ signal });
    } else if (Date.now() - first >= 1000) {
      stopTrainings(signal);
    }
  };
  const onInt = () => stop("SIGINT"),
    onTerm = () => stop("SIGTERM");
  process.on("SIGINT", onInt);
  process.on("SIGTERM", onTerm);
  return {
    signal: controller.signal,
    dispose() {
      process.off("SIGINT", onInt);
      process.off("SIGTERM", onTerm);
    },
  };
}

function methodList(text: string): MethodId[] {
  const ids = text
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  if (ids.length === 0)
    throw new InvalidArgumentError(
      `expected a comma-separated list of ${Object.keys(METHODS).join(", ")}, found "${text}"`,
    );
  return ids.map(oneOf(Object.keys(METHODS) as MethodId[]));
}

/** Where CIFAR-10 or SVHN has not been prepared in the cache folder (`--data`, else the default), the loader's own DataFormatError: every run would fail on it. */
function checkPrepared(dataset: DatasetName, dir: string | undefined): void {
  const cache = dir ?? defaultCacheDir();
  if (dataset === "cifar10") preparedCifar10File(cache, "train");
  if (dataset === "svhn") preparedSvhnFile(cache, "train");
}
