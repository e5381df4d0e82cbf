import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { modelFromBytes } from "../api/persist.js";
import { dataFingerprint } from "../train/dataIdentity.js";
import { Command, Option } from "commander";
import { createBackend, type BackendName } from "../backends/index.js";
import type { SimdChoice } from "../backends/wasm/simd.js";
import { CheckpointError, DataFormatError, OptionError } from "../core/errors.js";
import { sliceDataset, type Dataset } from "../data/dataset.js";
import type { TrainConfig } from "../train/config.js";
import { readOwnData, type OwnDataKind, type TrainingClasses, type TrainingColumns } from "../train/ownData.js";
import { checkDataFolderThere, checkOwnDataThere, delimiterOption } from "./ownData.js";
import { confusionCounts, confusionText, rowsOf } from "./confusion.js";
import { testTimeToString, type TestTime } from "../nn/binarization.js";
import { checkpointFromBytes } from "../train/checkpoint.js";
import { dataSource, loadRunData } from "../train/data.js";
import { checkFinite } from "../train/finite.js";
import { isFolder, pathExists, readFileChecked } from "../train/fsio.js";
import { noCheckpoint } from "../train/runFolder.js";
import { BEST_FILE, CHECKPOINT_FILE, CONFIG_FILE } from "../train/trainer.js";
import { oneOf, path } from "./parse.js";
import { backendOption, simdOption, threadsOption } from "./wasmOptions.js";
import { parseTestTimeOption } from "./train.js";

interface EvalCliOptions {
  confusion: boolean;
  json: boolean;
  testTime?: TestTime;
  which: "best" | "last";
  backend: BackendName;
  threads: number;
  simd: SimdChoice;
  data?: string;
  delimiter?: string;
}

export function evalCommand(): Command {
  return new Command("eval")
    .description("test error of a trained run's model")
    .argument("<dir>", "run folder written by `binaryconnect train`", path)
    .addOption(
      new Option("--test-time <mode>", "binary | real | ensemble:N (default: the run's)").argParser(
        parseTestTimeOption,
      ),
    )
    .addOption(
      new Option("--which <model>", "best (the best validation epoch) or last (the last checkpoint)")
        .default("best")
        .argParser(oneOf(["best", "last"] as const)),
    )
    .addOption(backendOption())
    .addOption(threadsOption())
    .addOption(simdOption())
    .addOption(
      new Option(
        "--data <path>",
        "the data to measure on (default: the data the run trained on): MNIST - folder with the four IDX files; CIFAR-10, SVHN - the cache folder of `binaryconnect data`; a run on your own data - a test CSV file or image folder (default: its --test)",
      ).argParser(path),
    )
    .addOption(delimiterOption('the run\'s; else "," or, for .tsv files, a tab'))
    .option(
      "--confusion",
      "also print each class's error and the confusion matrix (rows: the true class, columns: the predicted one; binary or real test-time weights)",
      false,
    )
    .option(
      "--json",
      "print one JSON object (model, epoch, test error, loss, examples; with --confusion the matrix) instead of text",
      false,
    )
    .action(async (dir: string, o: EvalCliOptions) => {
      const path = join(dir, o.which === "best" ? BEST_FILE : CHECKPOINT_FILE);
      if (!pathExists(path)) throw noCheckpoint(dir, o.which, "evaluates");
      const bytes = readFileChecked(path, "read the checkpoint");
      // a diverged model is not measured (its scores would be NaN); Adam's moments are not weights
      const { tensors } = checkpointFromBytes(bytes, path);
      checkFinite(
        tensors.filter((t) => !/#[mv]$/.test(t.name)),
        `${path} holds weights that are not finite`,
        "the run diverged before this checkpoint: evaluate --which best, or train again with a lower learning rate",
      );
      const training = modelFromBytes(bytes, path, { backend: "reference" }).training;
      if (!training) throw new CheckpointError(`${path} is not a model written by binaryconnect train`);
      const config = withCurrentDataPlace(training.config, dir);
      const testTime = o.testTime ?? config.testTime;
      if (o.confusion && testTime.kind === "ensemble")
        throw new OptionError(
          "--confusion needs one network's predictions; an ensemble's error only is measured",
          "give --test-time binary or real with --confusion",
        );
      if (o.delimiter !== undefined && config.dataset !== "csv" && config.dataset !== "custom")
        throw new OptionError(
          `--delimiter applies to CSV files; this run trained on ${config.dataset}`,
          "leave it out",
        );
      const backend = await createBackend(o.backend, { threads: o.threads, simd: o.simd });
      // the run's own data unless told otherwise (its configuration names the folder it trained on)
      const dataDir = o.data !== undefined ? resolve(o.data) : config.data?.dir;
      try {
        const test =
          config.dataset === "custom"
            ? await libraryTestSet(config, o.data, o.delimiter)
            : config.source
              ? await ownTestSet(config, o.data, o.delimiter)
              : await paperTestSet(config, o.data, dataDir, path);
        const onTraining =
          config.source !== undefined && o.data !== undefined && resolve(o.data) === config.source.train;
        if (onTraining) console.warn(`note: ${o.data} is the run's training data; the error on it is not a test error`);
        // the library's model: the run's network, weights and preprocessing (applied to data that is not preprocessed already)
        const model = modelFromBytes(bytes, path, { backend });
        const result = await model.evaluate(test, { testTime, batchSize: config.evalBatchSize });
        const counts =
          o.confusion && testTime.kind !== "ensemble"
            ? confusionCounts(
                test.y,
                (await model.predict(test, { testTime: testTime.kind, batchSize: config.evalBatchSize })).labels,
                model.classes,
              )
            : undefined;
        const names = config.classNames ?? test.classNames;
        if (o.json) {
          console.log(
            JSON.stringify({
              model: path,
              epoch: training.epochsDone,
              ...(training.partial ? { stepsOfNextEpoch: training.partial.batch } : {}),
              mode: config.mode,
              testTime: testTimeToString(testTime),
              [onTraining ? "trainingError" : "testError"]: result.error,
              loss: result.loss,
              examples: test.n,
              backend: backend.description,
              ...(counts
                ? {
                    classes: names ?? Array.from({ length: model.classes }, (_, k) => String(k)),
                    confusion: rowsOf(counts, model.classes),
                  }
                : {}),
            }),
          );
          return;
        }
        console.log(
          `${path} (${epochText(training)}, ${config.mode}): ${onTraining ? "error on its training data" : "test error"} ${(100 * result.error).toFixed(2)}% ` +
            `on ${test.n} ${test.shape.length === 3 ? "images" : "examples"} with test-time mode ${testTimeToString(testTime)} (${backend.description})`,
        );
        if (counts) console.log(confusionText(counts, model.classes, names));
      } finally {
        await backend.close();
      }
    });
}

/**
 * Where a run's data is now: the data place of its config.json (which each resume rewrites, with
 * the new place given to `--resume --data / --test`) over the one a checkpoint recorded (best.bin
 * keeps the place of its epoch). A config.json that is missing, unreadable or of another dataset
 * leaves `config` as it is.
 */
function withCurrentDataPlace(config: TrainConfig, dir: string): TrainConfig {
  let current: Partial<TrainConfig>;
  try {
    current = JSON.parse(readFileSync(join(dir, CONFIG_FILE), "utf8")) as Partial<TrainConfig>;
  } catch {
    return config;
  }
  if (typeof current !== "object" || current === null || current.dataset !== config.dataset) return config;
  const source = config.source && typeof current.source?.train === "string" ? { source: current.source } : {};
  const data =
    config.data && current.data && typeof current.data.dir === "string"
      ? { data: { ...config.data, dir: current.data.dir } }
      : {};
  return { ...config, ...source, ...data };
}

/** A paper dataset's test split (from `--data` where given: a note when that is not the run's data). */
async function paperTestSet(config: TrainConfig, given: string | undefined, dataDir: string | undefined, path: string) {
  if (given === undefined && dataDir) checkDataFolderThere(dataDir, "eval");
  const data = (await loadRunData(config, dataDir)).splits;
  if (given !== undefined && config.data && dataFingerprint(data.train) !== config.data.train.fingerprint) {
    console.warn(
      `note: ${given} is not the data ${path} was trained on (${dataSource(config.dataset, config.data.dir)}); measuring on its test split anyway`,
    );
  }
  if (!data.test) throw new DataFormatError(`${config.dataset} has no test split`);
  return data.test;
}

/**
 * A library run's test set: only `--data`, a CSV file (the label in its last column) or a folder
 * of class sub-folders of images, read for the run's network input and numbered by its classes.
 */
async function libraryTestSet(config: TrainConfig, given: string | undefined, delimiter?: string): Promise<Dataset> {
  if (given === undefined)
    throw new OptionError(
      "this run trained on data given to the library, which eval cannot read back",
      "give a test set with --data: a CSV file (the label in its last column) or a folder of one sub-folder of images per class",
    );
  const at = resolve(given);
  const kind: OwnDataKind = isFolder(at) ? "images" : "csv";
  const input = config.network?.input ?? [];
  if (kind === "images" && input.length !== 3)
    throw new OptionError(`${given} is a folder of images; this run's network takes [${input}], not images`);
  const reading =
    kind === "images"
      ? { shape: [...input] }
      : { ...trainingColumnsOfRun(config), ...(delimiter ? { delimiter } : {}) };
  return readOwnData(kind, at, reading, trainingClassesOfRun(config));
}

/** A run's training set's feature columns by name, where it had them (a CSV file's header): a second CSV file is read by them. */
function trainingColumnsOfRun(config: TrainConfig): TrainingColumns {
  return config.featureNames ? { columns: config.featureNames } : {};
}

/** What a test set must match of a run: its network's values per example and its classes. */
function trainingClassesOfRun(config: TrainConfig): TrainingClasses {
  return {
    features: (config.network?.input ?? []).reduce((a, b) => a * b, 1),
    count: config.classes ?? 10,
    ...(config.classNames ? { names: config.classNames } : {}),
  };
}

/**
 * Own data's test set: the file or folder given with `--data` (read as the training data was,
 * with its classes), else the run's --test.
 */
async function ownTestSet(config: TrainConfig, given: string | undefined, delimiter?: string): Promise<Dataset> {
  const source = config.source!;
  const kind = config.dataset as OwnDataKind;
  if (given === undefined) checkOwnDataThere(source, "eval");
  const at = given !== undefined ? resolve(given) : source.test;
  if (at === undefined)
    throw new OptionError(
      `this run (${source.train}) was trained without a test set`,
      `give one with --data: a ${kind === "csv" ? "CSV file" : "folder of images"} like its training data`,
    );
  const test = await readOwnData(
    kind,
    at,
    { ...source, ...trainingColumnsOfRun(config), ...(delimiter ? { delimiter } : {}) },
    trainingClassesOfRun(config),
  );
  // the run's --test-size, as the training measured
  const limit = config.limit?.test;
  return limit !== undefined && limit < test.n ? sliceDataset(test, 0, limit) : test;
}

/** Which model a checkpoint holds: "epoch N", or for one taken part way through an epoch "epoch N and S steps of epoch N + 1". */
export function epochText(training: { epochsDone: number; partial?: { epoch: number; batch: number } }): string {
  const { epochsDone, partial } = training;
  return partial ? `epoch ${epochsDone} and ${partial.batch} steps of epoch ${partial.epoch}` : `epoch ${epochsDone}`;
}
