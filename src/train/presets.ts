import { OptionError } from "../core/errors.js";
import { closest } from "../core/suggest.js";
import type { DatasetName, TrainConfig } from "./config.js";

/** The dropout used by the "50% dropout" baseline (p = 0.5 on hidden units, 0.2 on the input). */
export const PAPER_DROPOUT = { input: 0.2, hidden: 0.5 } as const;

type Preset = Omit<TrainConfig, "preset" | "mode" | "seed" | "testTime" | "dropout" | "limit" | "dataset"> & {
  dataset: DatasetName;
};

const MNIST_COMMON = {
  dataset: "mnist",
  H: 1,
  batchNorm: { variant: "authors", eps: 1e-4, momentum: 0.15 },
  evalBatchSize: 1000,
  meanFrom: "split",
} as const;

/** The paper's CNNs (section 3), in its notation (src/nn/architecture.ts). */
export const CIFAR10_PAPER_NET = "(2x128C3)-MP2-(2x256C3)-MP2-(2x512C3)-MP2-(2x1024FC)-10";
export const SVHN_PAPER_NET = "(2x64C3)-MP2-(2x128C3)-MP2-(2x256C3)-MP2-(2x1024FC)-10";
/** The CIFAR-10 network at a quarter of the width (about 1/16 of the work). */
export const CIFAR10_SMALL_NET = "(2x32C3)-MP2-(2x64C3)-MP2-(2x128C3)-MP2-(2x256FC)-10";
/** The CIFAR-10 network on CIFAR-100's 100 classes. */
export const CIFAR100_PAPER_NET = "(2x128C3)-MP2-(2x256C3)-MP2-(2x512C3)-MP2-(2x1024FC)-100";
/** The SVHN network at a quarter of the width. */
export const SVHN_SMALL_NET = "(2x16C3)-MP2-(2x32C3)-MP2-(2x64C3)-MP2-(2x256FC)-10";

/** The CNN experiments' settings (authors' Lasagne code): BN alpha 0.1, eps 1e-4, H = 1. */
const CNN_COMMON = {
  hidden: [] as number[],
  H: 1,
  batchNorm: { variant: "authors", eps: 1e-4, momentum: 0.1 },
  // = the training batch, so evaluation reuses the training step's activation buffers
  evalBatchSize: 50,
  meanFrom: "split",
} as const;

/**
 * Presets. cifar10-paper / svhn-paper: the paper's CNNs and the authors' schedules (batch 50;
 * Adam 3e-3 -> 2e-6 over 500 epochs / 1e-2 -> 3e-6 over 200). cifar10-small: the CIFAR-10
 * network at a quarter of the width on a 10-epoch schedule, so that its three methods train
 * side by side in about two hours on a 2-core machine (docs/RESULTS.md has the times). svhn-small: the SVHN network at a quarter of the width on 5 epochs (SVHN's
 * training set is about 12 times CIFAR-10's). mnist-paper: the paper's PI-MNIST network and schedule (3x1024, batch 200, 1000
 * epochs; Adam with the Lasagne code's 1e-3 -> 3e-6 decay instead of the paper's SGD).
 * mnist-lasagne: the authors' Lasagne script (3x2048, batch 100, 250 epochs).
 * cifar100-paper: the CIFAR-10 network and schedule on CIFAR-100's 100 fine classes (GCN + ZCA fitted on
 * its training split when the run starts).
 * mnist-quick (default): the paper's network on a short schedule that fits about two hours
 * on a 2-core machine.
 */
export const PRESETS: Record<string, Preset> = {
  "mnist-quick": {
    ...MNIST_COMMON,
    hidden: [1024, 1024, 1024],
    batchSize: 200,
    epochs: 100,
    lrStart: 3e-3,
    lrEnd: 3e-6,
  },
  "mnist-paper": {
    ...MNIST_COMMON,
    hidden: [1024, 1024, 1024],
    batchSize: 200,
    epochs: 1000,
    lrStart: 1e-3,
    lrEnd: 3e-6,
  },
  "mnist-lasagne": {
    ...MNIST_COMMON,
    hidden: [2048, 2048, 2048],
    batchSize: 100,
    epochs: 250,
    lrStart: 1e-3,
    lrEnd: 3e-6,
  },
  "cifar10-paper": {
    ...CNN_COMMON,
    dataset: "cifar10",
    architecture: CIFAR10_PAPER_NET,
    batchSize: 50,
    epochs: 500,
    lrStart: 3e-3,
    lrEnd: 2e-6,
  },
  "cifar10-small": {
    ...CNN_COMMON,
    dataset: "cifar10",
    architecture: CIFAR10_SMALL_NET,
    batchSize: 50,
    epochs: 10,
    lrStart: 3e-3,
    lrEnd: 3e-5,
  },
  "cifar100-paper": {
    ...CNN_COMMON,
    dataset: "cifar100",
    architecture: CIFAR100_PAPER_NET,
    classes: 100,
    batchSize: 50,
    epochs: 500,
    lrStart: 3e-3,
    lrEnd: 2e-6,
  },
  "svhn-paper": {
    ...CNN_COMMON,
    dataset: "svhn",
    architecture: SVHN_PAPER_NET,
    batchSize: 50,
    epochs: 200,
    lrStart: 1e-2,
    lrEnd: 3e-6,
  },
  "svhn-small": {
    ...CNN_COMMON,
    dataset: "svhn",
    architecture: SVHN_SMALL_NET,
    batchSize: 50,
    epochs: 5,
    lrStart: 1e-2,
    lrEnd: 1e-4,
  },
};

export const DEFAULT_PRESET = "mnist-quick";

export function getPreset(name: string): Preset {
  const p = PRESETS[name];
  if (!p) {
    const names = Object.keys(PRESETS);
    throw new OptionError(
      `unknown preset "${name}"; expected one of ${names.join(", ")}`,
      `did you mean "${closest(name, names)}"?`,
    );
  }
  return p;
}
