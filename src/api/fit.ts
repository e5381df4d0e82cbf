/**
 * Model.fit: BinaryConnect training (paper Algorithm 1) of a library model on datasets, with the
 * paper's optimizer and schedule by default (Adam with the Glorot-scaled, clipped step of binary
 * weights; exponential learning-rate decay), validation, callbacks, early stopping, abort
 * signals, and a checkpoint folder for an exact resume. Browser-safe: the checkpoint folder is
 * provided by the Node entry (src/index.ts registers it).
 */
import { checkKnownKeys } from "./knownKeys.js";
import { OptionError, UsageError } from "../core/errors.js";
import { checkDataset, sliceDataset, type Dataset } from "../data/dataset.js";
import {
  checkPreprocessSpecs,
  fitPreprocessing,
  preprocessDifference,
  type PreprocessSpec,
} from "../data/preprocessing.js";
import { LR_SCHEDULES, type LrScheduleName, type TrainConfig } from "../train/config.js";
import { dataDifference, dataIdentity } from "../train/dataIdentity.js";
import type { LabeledSet } from "../train/dataset.js";
import {
  NO_BEST,
  runEpochs,
  type Best,
  type EpochRecord,
  type LoopData,
  type PartialEpoch,
  type RunStore,
} from "../train/loop.js";
import { networkOf } from "../train/model.js";
import { readModelState, writeModelState } from "../train/modelState.js";
import { preprocessingFromState } from "../train/preprocessingState.js";
import type { Sequential } from "../nn/sequential.js";
import { batchSizeOption, toTestTime, type Model, type TestTimeOption } from "./model.js";
import { openRunFolder, type RunFolderLike } from "./platform.js";

export interface FitCallbacks {
  /** Before an epoch's first step (epochs count from 1). */
  onEpochBegin?(epoch: number, info: { batches: number }): void;
  /** After each step; the loss of a single batch is not read back (that would cost a device round trip per step). */
  onBatchEnd?(batch: number, info: { batches: number; examplesPerSecond: number }): void;
  /** After an epoch's validation (and its checkpoint, with checkpointDir). */
  onEpochEnd?(epoch: number, logs: EpochRecord): void | Promise<void>;
}

export interface FitOptions {
  /** The run's total epochs (default 10): a run already at `epochsDone` trains epochs epochsDone+1..epochs, so calling fit again with more continues it. */
  epochs?: number;
  /** Examples per step (default 100, at most the training set); the last partial batch of an epoch is left out, as the authors'. */
  batchSize?: number;
  /** A held-out set, or the fraction of the training set taken from its end (before shuffling) as validation. */
  validation?: Dataset | number;
  /** A test set: its error is measured at every new best validation epoch (the paper's protocol). */
  test?: Dataset;
  /** Adam's learning rate, from `start` (default 3e-3) decayed to `end` (default start / 1000) over the run's epochs. */
  lr?: number | { start?: number; end?: number };
  /** "exponential" (default, the authors') or "cosine". */
  schedule?: LrScheduleName;
  /** The weights validation and test use (paper section 2.6); default binary for a det network, real otherwise. */
  testTime?: TestTimeOption;
  /** Examples per forward pass when measuring (default 500; does not change results). */
  evalBatchSize?: number;
  /** Preprocessing fitted on the training set at the first fit and kept with the model, e.g. [bc.preprocess.scale(1 / 255), bc.preprocess.subtractMean()]. */
  preprocess?: PreprocessSpec[];
  callbacks?: FitCallbacks;
  /** Stop when the validation error has not improved for `patience` epochs; restoreBest: end with the best epoch's weights. */
  earlyStopping?: { patience: number; restoreBest?: boolean };
  /**
   * Aborting stops training before the next step (or evaluation batch); fit then rejects with
   * the signal's reason. With checkpointDir, the epoch so far is checkpointed first: fit on the
   * same folder continues at the next step, ending with the weights of an uninterrupted run.
   */
  signal?: AbortSignal;
  /**
   * A run folder (Node): checkpoint.bin after every epoch (with the records of every epoch),
   * best.bin, metrics.jsonl (rewritten from the checkpoint), locked (train.lock) while fit
   * trains in it: a second training in it is a RunInUseError. A folder that already holds a run
   * of this model continues it exactly (the data must be the same). A loss or parameter that
   * is not finite is a NumericalError before anything of its epoch is written.
   */
  checkpointDir?: string;
  /** Settings recorded in the run's configuration (the CLI's preset, dataset and data folder). */
  record?: Partial<
    Pick<
      TrainConfig,
      "preset" | "dataset" | "source" | "hidden" | "architecture" | "mode" | "dropout" | "meanFrom" | "limit"
    >
  > & { dataDir?: string };
  /** Stop after this many epochs of this call (tests of interrupted runs). */
  maxEpochsThisCall?: number;
}

export interface History {
  /** Every epoch of the run so far, from the first (a resumed run's earlier epochs included where known). */
  epochs: EpochRecord[];
  /** The epochs this call trained. */
  trained: EpochRecord[];
  best: Best;
  epochsDone: number;
  stoppedEarly: boolean;
}

const FIT_KEYS = [
  "epochs",
  "batchSize",
  "validation",
  "test",
  "lr",
  "schedule",
  "testTime",
  "evalBatchSize",
  "preprocess",
  "callbacks",
  "earlyStopping",
  "signal",
  "checkpointDir",
  "record",
  "maxEpochsThisCall",
];

/** The settings given to this call that a continued run takes from its saved configuration. */
const FIXED_ON_RESUME: (keyof FitOptions)[] = ["batchSize", "lr", "schedule"];

export async function fit(model: Model, train: Dataset, opts: FitOptions = {}): Promise<History> {
  checkKnownKeys("fit", opts, FIT_KEYS, ["maxEpochsThisCall"]); // maxEpochsThisCall: the tests' own
  checkNestedOptions(opts);
  const folder = opts.checkpointDir !== undefined ? openRunFolder(opts.checkpointDir, model) : undefined;
  folder?.open();
  try {
    return await fitIn(folder, model, train, opts);
  } finally {
    try {
      folder?.close();
    } catch {
      // the lock stays; the next training in the folder takes it over (its process no longer trains)
    }
  }
}

async function fitIn(
  folder: RunFolderLike | undefined,
  model: Model,
  train: Dataset,
  opts: FitOptions,
): Promise<History> {
  const { trainSet, validationSet } = splitValidation(checkDataset(train, "fit (training set)"), opts.validation);
  const saved = folder?.hasCheckpoint() ? folder.readCheckpoint() : null;
  const previous = saved ? null : model.training;
  // a resumed run takes the preprocessing it fitted at its start (a program run again passes the same `preprocess`)
  if (saved?.meta.preprocessing)
    model.preprocessing = preprocessingFromState(saved.meta.preprocessing, saved.tensors, `${opts.checkpointDir}`);
  if ((saved || previous) && opts.preprocess && !model.preprocessing)
    throw new OptionError("fit: preprocess is fitted at a run's first epoch; this run has started without one");
  const difference =
    (saved || previous) && opts.preprocess && preprocessDifference(opts.preprocess, model.preprocessing!);
  if (difference)
    throw new OptionError(
      `fit: ${saved ? `the run in ${opts.checkpointDir}` : "this model's run"} continues with the preprocessing fitted at its first epoch; the preprocess given differs (${difference})`,
      "leave preprocess out to continue, or start a new run",
    );
  if (!saved && !previous && opts.preprocess && !model.preprocessing) {
    if (trainSet.preprocessed)
      throw new OptionError("fit: preprocess was given, but the training set is marked preprocessed");
    model.preprocessing = await fitPreprocessing(opts.preprocess, trainSet, { backend: await model.backend() });
  }
  // the other sets matched to the training set's names (a model's first fit has none yet)
  const names = {
    classNames: model.classNames ?? trainSet.classNames,
    featureNames: model.featureNames ?? trainSet.featureNames,
  };
  const data: LoopData = {
    train: await model.prepare(trainSet, "fit (training set)"),
    ...(validationSet ? { validation: await model.prepare(validationSet, "fit (validation set)", names) } : {}),
    ...(opts.test ? { test: await model.prepare(opts.test, "fit (test set)", names) } : {}),
  };
  // the data as given (raw pixels, or a pipeline's preprocessed values), before the model's preprocessing
  const identity = dataIdentity(trainSet, opts.record?.dataDir);
  const fresh = freshConfig(model, opts, data.train, identity, trainSet);
  let config: TrainConfig;
  let epochsDone = 0,
    best: Best = NO_BEST,
    history: EpochRecord[] = [];
  let partial: PartialEpoch | undefined;
  const net = await model.engineNetwork();
  if (saved) {
    config = continuedConfig(saved.meta.config, opts, fresh, `the run in ${opts.checkpointDir}`);
    checkSameNetwork(model, saved.meta.config, data.train.features, opts.checkpointDir!);
    const difference = saved.meta.config.data ? dataDifference(saved.meta.config.data, identity) : null;
    if (difference) {
      throw new OptionError(
        `fit: ${opts.checkpointDir} holds a run trained on other data: ${difference}`,
        saved.meta.config.data?.dir
          ? `resume it with its own data (${saved.meta.config.data.dir}), or start a new run in another folder`
          : "resume it with its own data, or start a new run in another folder",
      );
    }
    writeModelState(net, saved.tensors, true, `${opts.checkpointDir}`);
    net.optimizer.t = saved.meta.step;
    epochsDone = saved.meta.epochsDone;
    checkEpochsGrow(opts, epochsDone);
    best = saved.meta.best;
    partial = saved.meta.partial;
    history = folder!.resume(saved);
    // written again even where unchanged: a config.json deleted or damaged since is repaired from the checkpoint
    folder!.writeConfig(config);
  } else if (previous) {
    config = continuedConfig(previous.config, opts, fresh, "this model's run");
    checkEpochsGrow(opts, previous.epochsDone);
    ({ epochsDone, best, history } = {
      epochsDone: previous.epochsDone,
      best: previous.best,
      history: [...previous.history],
    });
    // an earlier fit aborted part way through an epoch: the weights are at that step, so continue from it
    partial = previous.partial?.epoch === epochsDone + 1 ? previous.partial : undefined;
    folder?.start(config, history);
  } else {
    config = fresh;
    folder?.start(config);
  }
  const snapshot = opts.earlyStopping?.restoreBest ? new BestSnapshot(folder) : undefined;
  let aborted: { partial: PartialEpoch; best: Best } | undefined;
  const run = runEpochs({
    config,
    model: net,
    data,
    epochsDone,
    best,
    partial,
    stored: Boolean(saved),
    store: snapshot ?? folder,
    signal: opts.signal,
    maxEpochsThisCall: opts.maxEpochsThisCall,
    improvedAt: firstBestEpoch(history, best),
    keepPartial: (p, b) => {
      aborted = { partial: p, best: b };
    },
    callbacks: {
      onEpochStart: (epoch, batches) => opts.callbacks?.onEpochBegin?.(epoch, { batches }),
      onBatch: (batch, batches, examplesPerSecond) =>
        opts.callbacks?.onBatchEnd?.(batch, { batches, examplesPerSecond }),
      onEpochEnd: async (record) => {
        history.push(record);
        model.setTraining({
          config,
          epochsDone: record.epoch,
          best: { valError: record.val_error, testError: record.test_error, epoch: record.best_epoch },
          history,
        });
        await opts.callbacks?.onEpochEnd?.(record.epoch, record);
      },
    },
  });
  let result: Awaited<typeof run>;
  try {
    result = await run;
  } catch (e) {
    // without a run folder the epoch so far lives on in the model: a later fit continues it from that step
    if (aborted)
      model.setTraining({
        config,
        epochsDone: aborted.partial.epoch - 1,
        best: aborted.best,
        history,
        partial: aborted.partial,
      });
    throw e;
  }
  model.setTraining({ config, epochsDone: result.epochsDone, best: result.best, history });
  if (snapshot?.state && result.best.epoch < result.epochsDone)
    writeModelState(net, snapshot.state, false, "the best epoch's weights");
  return {
    epochs: history,
    trained: result.records,
    best: result.best,
    epochsDone: result.epochsDone,
    stoppedEarly: result.stoppedEarly,
  };
}

/** The shapes of the options that are objects or functions (a typo in them would otherwise be ignored, or fail an epoch later). */
function checkNestedOptions(opts: FitOptions): void {
  const isObject = (v: unknown): v is object => typeof v === "object" && v !== null && !Array.isArray(v);
  const found = (v: unknown) => JSON.stringify(v) ?? String(v);
  if (opts.lr !== undefined && typeof opts.lr !== "number") {
    if (!isObject(opts.lr))
      throw new OptionError(
        `fit: lr must be a number or { start, end }, found ${found(opts.lr)}`,
        "e.g. lr: 1e-3, or lr: { start: 1e-3, end: 3e-6 }",
      );
    checkKnownKeys("fit: lr", opts.lr, ["start", "end"]);
  }
  if (opts.preprocess !== undefined) checkPreprocessSpecs(opts.preprocess, "fit");
  if (opts.callbacks !== undefined) {
    if (!isObject(opts.callbacks))
      throw new OptionError(`fit: callbacks must be an object, found ${found(opts.callbacks)}`);
    checkKnownKeys("fit: callbacks", opts.callbacks, CALLBACK_KEYS);
    for (const [name, f] of Object.entries(opts.callbacks))
      if (f !== undefined && typeof f !== "function")
        throw new OptionError(`fit: callbacks.${name} must be a function, found ${found(f)}`);
  }
  if (opts.earlyStopping !== undefined) {
    if (!isObject(opts.earlyStopping))
      throw new OptionError(
        `fit: earlyStopping must be { patience, restoreBest? }, found ${found(opts.earlyStopping)}`,
      );
    checkKnownKeys("fit: earlyStopping", opts.earlyStopping, ["patience", "restoreBest"]);
  }
  const signal = opts.signal as unknown;
  if (signal !== undefined && !(isObject(signal) && typeof (signal as AbortSignal).aborted === "boolean"))
    throw new OptionError(
      `fit: signal must be an AbortSignal, found ${found(signal)}`,
      "pass an AbortController's signal: const c = new AbortController(); fit(data, { signal: c.signal })",
    );
}

const CALLBACK_KEYS: (keyof FitCallbacks)[] = ["onEpochBegin", "onBatchEnd", "onEpochEnd"];

/** The training set and the validation set: a given one, or the last fraction of the training set. */
function splitValidation(
  train: Dataset,
  validation: Dataset | number | undefined,
): { trainSet: Dataset; validationSet?: Dataset } {
  if (validation === undefined) return { trainSet: train };
  if (typeof validation !== "number") return { trainSet: train, validationSet: validation };
  if (!(validation > 0 && validation < 1))
    throw new OptionError(`fit: a validation fraction must be in (0, 1), found ${validation}`);
  const count = Math.floor(train.n * validation);
  if (count < 1 || count >= train.n)
    throw new OptionError(
      `fit: a validation fraction of ${validation} of ${train.n} examples leaves ${count} for validation and ${train.n - count} for training`,
      "use a larger fraction, a held-out set, or more data",
    );
  return {
    trainSet: sliceDataset(train, 0, train.n - count),
    validationSet: sliceDataset(train, train.n - count, count),
  };
}

/** The configuration of a new run of `model` with these options. */
function freshConfig(
  model: Model,
  opts: FitOptions,
  train: LabeledSet,
  data: TrainConfig["data"],
  { classNames, featureNames }: Pick<Dataset, "classNames" | "featureNames">,
): TrainConfig {
  const epochs = opts.epochs ?? 10;
  if (!(Number.isInteger(epochs) && epochs >= 1))
    throw new OptionError(`fit: epochs must be an integer >= 1, found ${JSON.stringify(opts.epochs)}`);
  const batchSize = opts.batchSize ?? Math.min(100, train.n);
  if (!(Number.isInteger(batchSize) && batchSize >= 1))
    throw new OptionError(`fit: batchSize must be an integer >= 1, found ${JSON.stringify(opts.batchSize)}`);
  if (batchSize > train.n)
    throw new OptionError(
      `fit: batchSize ${batchSize} is larger than the ${train.n} training examples`,
      "use a smaller batch",
    );
  const lr = typeof opts.lr === "number" ? { start: opts.lr } : (opts.lr ?? {});
  const lrStart = lr.start ?? 3e-3,
    lrEnd = lr.end ?? lrStart / 1000;
  const rate = (v: unknown) => typeof v === "number" && Number.isFinite(v) && v > 0;
  // a number as itself (JSON writes Infinity and NaN as null), anything else as JSON (a string in quotes)
  const shown = (v: unknown) => (typeof v === "number" ? String(v) : JSON.stringify(v));
  if (!(rate(lrStart) && rate(lrEnd)))
    throw new OptionError(
      `fit: learning rates must be finite numbers > 0, found start ${shown(lrStart)}, end ${shown(lrEnd)}`,
    );
  const schedule = opts.schedule ?? "exponential";
  if (!LR_SCHEDULES.includes(schedule))
    throw new OptionError(`fit: schedule must be one of ${LR_SCHEDULES.join(", ")}, found ${JSON.stringify(schedule)}`);
  if (opts.earlyStopping && opts.validation === undefined)
    throw new OptionError(
      "fit: earlyStopping watches the validation error, and no validation set was given",
      "give validation: a Dataset, or the fraction of the training set to hold out (e.g. 0.1)",
    );
  if (opts.earlyStopping && !(Number.isInteger(opts.earlyStopping.patience) && opts.earlyStopping.patience >= 1)) {
    throw new OptionError(
      `fit: earlyStopping.patience must be an integer >= 1, found ${JSON.stringify(opts.earlyStopping.patience)}`,
    );
  }
  const evalBatchSize = batchSizeOption(opts.evalBatchSize ?? 500, "fit: evalBatchSize");
  const { dataDir: _dir, ...record } = opts.record ?? {};
  const net = model.network;
  return {
    preset: "custom",
    dataset: "custom",
    hidden: [],
    mode: net.binarization,
    H: net.H,
    dropout: { input: 0, hidden: 0 },
    batchNorm: net.batchNorm,
    meanFrom: "split",
    ...record,
    network: net,
    classes: model.classes,
    batchSize,
    epochs,
    lrStart,
    lrEnd,
    schedule,
    seed: model.seed,
    testTime: toTestTime(opts.testTime) ?? model.defaultTestTime(),
    evalBatchSize,
    ...(opts.earlyStopping ? { earlyStopping: { patience: opts.earlyStopping.patience } } : {}),
    ...(data ? { data } : {}),
    ...(classNames && classNames.length === model.classes ? { classNames: [...classNames] } : {}),
    ...(featureNames && featureNames.length === train.features ? { featureNames: [...featureNames] } : {}),
  };
}

/** A run's saved configuration with this call's epochs (and early stopping); other settings given must agree with it. */
function continuedConfig(savedConfig: TrainConfig, opts: FitOptions, fresh: TrainConfig, what: string): TrainConfig {
  const differs = FIXED_ON_RESUME.filter((key) => {
    if (opts[key] === undefined) return false;
    if (key === "batchSize") return fresh.batchSize !== savedConfig.batchSize;
    if (key === "lr")
      return (
        fresh.lrStart !== savedConfig.lrStart ||
        (typeof opts.lr === "object" && opts.lr.end !== undefined && fresh.lrEnd !== savedConfig.lrEnd)
      );
    if (key === "schedule") return fresh.schedule !== (savedConfig.schedule ?? "exponential");
    return false;
  });
  if (differs.length)
    throw new OptionError(
      `fit: ${what} continues with its saved settings; ${differs.join(", ")} ${differs.length === 1 ? "differs" : "differ"} from them`,
      "leave them out to continue, or start a new run",
    );
  const epochs = opts.epochs ?? savedConfig.epochs;
  const { earlyStopping: _e, ...rest } = savedConfig;
  return {
    ...rest,
    epochs,
    ...(opts.earlyStopping
      ? { earlyStopping: { patience: opts.earlyStopping.patience } }
      : savedConfig.earlyStopping
        ? { earlyStopping: savedConfig.earlyStopping }
        : {}),
    ...(savedConfig.data || !fresh.data ? {} : { data: fresh.data }),
    // data that moved (the CLI's --resume --data / --test): its new place, the data checked by its fingerprint
    ...(savedConfig.source && opts.record?.source ? { source: opts.record.source } : {}),
    ...(savedConfig.data?.dir && opts.record?.dataDir
      ? { data: { ...savedConfig.data, dir: opts.record.dataDir } }
      : {}),
  };
}

/** The first epoch of the run that reached its best validation error (early stopping counts from it). */
function firstBestEpoch(history: EpochRecord[], best: Best): number {
  const first = history.find((r) => r.val_error === best.valError && r.epoch <= best.epoch);
  return first?.epoch ?? best.epoch;
}

/** A continued run's epochs (its total) at least those done: fewer would silently train nothing. */
function checkEpochsGrow(opts: FitOptions, done: number): void {
  if (opts.epochs !== undefined && opts.epochs < done)
    throw new OptionError(
      `fit: epochs ${opts.epochs} is fewer than the ${done} this run has done`,
      "epochs is the run's total: give more than it has done to train more, or leave it out",
    );
}

function checkSameNetwork(model: Model, savedConfig: TrainConfig, features: number, dir: string): void {
  const saved = JSON.stringify(networkOf(savedConfig, features)),
    ours = JSON.stringify(model.network);
  if (saved !== ours)
    throw new OptionError(
      `fit: ${dir} holds a run of another network`,
      "continue it with the model it was trained with (bc.loadModel on its checkpoint), or choose another checkpointDir",
    );
}

/** Keeps the best epoch's weights in memory (and passes everything on to the run folder, if any). */
class BestSnapshot implements RunStore {
  state: Awaited<ReturnType<typeof readModelState>> | undefined;
  constructor(private readonly inner: RunStore | undefined) {}
  get persistent(): boolean {
    return this.inner !== undefined && this.inner.persistent !== false;
  }
  async saveBest(model: Sequential, config: TrainConfig, epochsDone: number, best: Best): Promise<void> {
    this.state = await readModelState(model, false);
    await this.inner?.saveBest(model, config, epochsDone, best);
  }
  async saveEpoch(...args: Parameters<RunStore["saveEpoch"]>): Promise<void> {
    await this.inner?.saveEpoch(...args);
  }
  async savePartial(...args: Parameters<NonNullable<RunStore["savePartial"]>>): Promise<void> {
    await this.inner?.savePartial?.(...args);
  }
}

export type { RunFolderLike };
export { UsageError };
