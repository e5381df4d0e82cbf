/**
 * The paper's experiments as functions: each returns a model (its network, in the paper's
 * notation for the CNNs) and the fit options of its schedule (batch size, epochs, Adam's
 * learning rates with exponential decay, test-time weights).
 *
 *   const { model, fitOptions } = bc.presets.mnistQuick({ mode: "det" });
 *   await model.fit(train, { ...fitOptions, validation, test });
 */
import { checkBinarization, defaultTestTime, type Binarization } from "../nn/binarization.js";
import type { TrainConfig } from "../train/config.js";
import { networkOf } from "../train/model.js";
import { getPreset, PAPER_DROPOUT, PRESETS } from "../train/presets.js";
import type { FitOptions } from "./fit.js";
import { Model, type ModelOptions } from "./model.js";

export interface PresetOptions extends ModelOptions {
  /** Binarization of every layer (default "det"). */
  mode?: Binarization;
  /** The paper's "50% dropout" baseline (MLP presets; use with mode "none"). */
  dropout?: boolean;
}

export interface Preset {
  name: string;
  /** The paper dataset it is defined on ("mnist", "cifar10", "svhn", "cifar100"). */
  dataset: string;
  model: Model;
  fitOptions: Pick<FitOptions, "epochs" | "batchSize" | "lr" | "schedule" | "testTime" | "evalBatchSize">;
  /** The full run configuration (what the CLI's `train --preset` records). */
  config: TrainConfig;
}

/** The names of the presets. */
export const PRESET_NAMES: readonly string[] = Object.keys(PRESETS);

/** A preset by name (`PRESET_NAMES`). */
export function preset(name: string, opts: PresetOptions = {}): Preset {
  const p = getPreset(name);
  const mode = checkBinarization(opts.mode ?? "det", "preset: mode");
  const { mode: _m, dropout, ...modelOptions } = opts;
  const seed = opts.seed ?? 1;
  const config: TrainConfig = {
    ...p,
    preset: name,
    mode,
    seed,
    testTime: defaultTestTime(mode),
    dropout: dropout ? { ...PAPER_DROPOUT } : { input: 0, hidden: 0 },
  };
  const features = p.architecture ? 0 : 784;
  const model = new Model(networkOf(config, features), { ...modelOptions, seed });
  return {
    name,
    dataset: p.dataset,
    model,
    config,
    fitOptions: {
      epochs: p.epochs,
      batchSize: p.batchSize,
      lr: { start: p.lrStart, end: p.lrEnd },
      schedule: "exponential",
      testTime: config.testTime,
      evalBatchSize: p.evalBatchSize,
    },
  };
}

/** The paper's PI-MNIST network (3 x 1024) on a 100-epoch schedule (3e-3 -> 3e-6). */
export const mnistQuick = (opts?: PresetOptions) => preset("mnist-quick", opts);
/** The paper's PI-MNIST network and 1000-epoch schedule (Adam 1e-3 -> 3e-6). */
export const mnistPaper = (opts?: PresetOptions) => preset("mnist-paper", opts);
/** The authors' Lasagne MNIST script: 3 x 2048, batch 100, 250 epochs. */
export const mnistLasagne = (opts?: PresetOptions) => preset("mnist-lasagne", opts);
/** The paper's CIFAR-10 CNN, 500 epochs. */
export const cifar10Paper = (opts?: PresetOptions) => preset("cifar10-paper", opts);
/** The CIFAR-10 CNN at a quarter of the width, 10 epochs. */
export const cifar10Small = (opts?: PresetOptions) => preset("cifar10-small", opts);
/** The paper's CIFAR-10 CNN on CIFAR-100's 100 classes. */
export const cifar100Paper = (opts?: PresetOptions) => preset("cifar100-paper", opts);
/** The paper's SVHN CNN, 200 epochs. */
export const svhnPaper = (opts?: PresetOptions) => preset("svhn-paper", opts);
/** The SVHN CNN at a quarter of the width, 5 epochs. */
export const svhnSmall = (opts?: PresetOptions) => preset("svhn-small", opts);
