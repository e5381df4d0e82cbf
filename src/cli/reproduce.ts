import { availableParallelism } from "node:os";
import { join } from "node:path";
import { Command, InvalidArgumentError, Option } from "commander";
import { BACKEND_NAMES } from "../backends/index.js";
import type { SimdChoice } from "../backends/wasm/simd.js";
import { BinaryConnectError } from "../core/errors.js";
import { PAPER_DATASETS as DATASET_NAMES, type DatasetName } from "../reproduce/plan.js";
import { BUDGETS, METHODS, type Budget, type MethodId } from "../reproduce/plan.js";
import { reproduce, stopTrainings } from "../reproduce/runner.js";
import { integer, oneOf } from "./parse.js";
import { STOPPED_EXIT_CODES } from "./train.js";
import { simdOption } from "./wasmOptions.js";

interface ReproduceCliOptions {
  budget: Budget;
  seeds: number;
  parallel: number;
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
    .addOption(new Option("--parallel <n>", "trainings at once, each its own process").default(1).argParser(integer(1)))
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
    .addOption(new Option("--out <dir>", "experiment folder (default: reproduce/<dataset>-<budget>)"))
    .addOption(new Option("--epochs <n>", "override the budget's epochs").argParser(integer(1)))
    .addOption(
      new Option(
        "--methods <list>",
        `comma-separated subset of ${Object.keys(METHODS).join(", ")} (default: the dataset's table)`,
      ).argParser(methodList),
    )
    .addOption(new Option("--data <dir>", "passed to train --data"))
    .addOption(new Option("--train-size <n>", "passed to train (smoke tests)").argParser(integer(1)))
    .addOption(new Option("--val-size <n>", "passed to train (smoke tests)").argParser(integer(1)))
    .addOption(new Option("--test-size <n>", "passed to train (smoke tests)").argParser(integer(1)))
    .action(async (dataset: DatasetName, o: ReproduceCliOptions) => {
      const outDir = o.out ?? join("reproduce", `${dataset}-${o.budget}`);
      const threads = o.threads ?? Math.max(1, Math.floor(availableParallelism() / o.parallel));
      const extraTrainArgs = [
        ...(o.data ? ["--data", o.data] : []),
        ...(o.trainSize ? ["--train-size", String(o.trainSize)] : []),
        ...(o.valSize ? ["--val-size", String(o.valSize)] : []),
        ...(o.testSize ? ["--test-size", String(o.testSize)] : []),
      ];
      const stop = stopOnSignals();
      let outcome: Awaited<ReturnType<typeof reproduce>>;
      try {
        outcome = await reproduce({
          dataset,
          budget: o.budget,
          seeds: o.seeds,
          outDir,
          epochs: o.epochs,
          methods: o.methods,
          parallel: o.parallel,
          threads,
          simd: o.simd,
          backend: o.backend,
          extraTrainArgs,
          signal: stop.signal,
        });
      } finally {
        stop.dispose();
      }
      const { failed, stopped } = outcome;
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
      if (failed.length)
        throw new BinaryConnectError(
          `${failed.length} run(s) failed: ${failed.join(", ")}`,
          "see each run's train.log; run the same command again to retry them",
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
