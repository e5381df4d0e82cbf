/**
 * A trained model as deployment sees it (browser-safe): its layers with their weights and the
 * batch norm that follows each, the preprocessing of raw inputs, and the provenance written
 * into the file. Built from a model's network description and tensors - in memory (Model's
 * exportBcnet / exportOnnx) or from a run folder (runModel.ts) - and turned into a .bcnet model.
 */
import { OptionError } from "../core/errors.js";
import type { BcnetLayer, BcnetModel, ModelInfo } from "../format/bcnet.js";
import { foldBatchNorm } from "../format/fold.js";
import { packSigns } from "../format/pack.js";
import type { Preprocessing } from "../format/preprocessing.js";
import type { ImageShape } from "../format/shapes.js";
import { testTimeToString } from "../nn/binarization.js";
import type { NetworkConfig } from "../nn/network.js";
import type { NamedArray } from "../train/checkpointFormat.js";
import type { TrainConfig } from "../train/config.js";
import type { CsvReading } from "../train/ownData.js";
import type { Best } from "../train/loop.js";
import { CheckpointError } from "../core/errors.js";
import { checkFinite } from "../train/finite.js";
import { networkLayers, type RunLayer } from "./runNetwork.js";

export type { RunConv, RunDense, RunLayer, RunMaxPool } from "./runNetwork.js";

export const PRODUCER = "binaryconnect 0.2.0";

/** What export needs: the layers, the input, the preprocessing and the provenance. */
export interface RunModel {
  /** Where the model came from (a file, or "the model": the library's Model in memory). */
  source: string;
  /** A name for the graph ("binaryconnect mnist-quick det"). */
  name: string;
  inputs: number;
  /** The input image of a network on images (rows are NHWC); absent for a network on feature vectors. */
  image?: ImageShape;
  layers: RunLayer[];
  preprocessing: Preprocessing;
  info: ModelInfo;
}

/** The training run a model came from, for the provenance. */
export interface RunProvenance {
  config?: TrainConfig;
  epochsDone?: number;
  best?: Best;
  /** A checkpoint taken part way through epoch epochsDone + 1 (after `batch` of its steps). */
  partial?: { epoch: number; batch: number };
}

/**
 * The deployable view of a network with its tensors (named as the engine names them) and its
 * preprocessing. A preprocessing fitted on [H, W, C] examples for a network on feature vectors
 * of the same size is re-shaped to [H W C] (every step but LCN is per feature).
 */
export function modelRun(
  network: NetworkConfig,
  tensors: readonly NamedArray[],
  preprocessing: Preprocessing | undefined,
  source: string,
  run: RunProvenance = {},
): RunModel {
  const byName = new Map(tensors.map((t) => [t.name, t]));
  const get = (name: string): NamedArray => {
    const t = byName.get(name);
    if (!t)
      throw new CheckpointError(`${source}: tensor "${name}" is missing`, "the file was written for another network");
    // a diverged model would deploy as one whose every score is NaN
    checkFinite(
      [t],
      `${source} holds weights that are not finite`,
      "the run diverged before this model was saved: export its best epoch (--which best), or train again with a lower learning rate",
    );
    return t;
  };
  const inputs = network.input.reduce((a, b) => a * b, 1);
  const image =
    network.input.length === 3
      ? { height: network.input[0], width: network.input[1], channels: network.input[2] }
      : undefined;
  if (!preprocessing) {
    throw new OptionError(
      `${source}: no preprocessing, so a deployed model would not know how to prepare raw inputs`,
      "fit with { preprocess: [...] }, or set model.preprocessing: a pipeline's (model.preprocessing = splits.preprocessing, for mnistSplits, cifar10Splits, svhnSplits), or { shape, steps: [] } for inputs used as they are; a run folder of version 0.1: export it with binaryconnect export --data",
    );
  }
  const config = run.config;
  const mode = config?.mode ?? network.binarization;
  return {
    source,
    inputs,
    layers: networkLayers(network, get, source),
    preprocessing: reshapedFor(preprocessing, network.input, source),
    name: `binaryconnect ${config?.preset ?? "model"} ${mode}`,
    ...(image ? { image } : {}),
    info: modelInfo(network, source, run),
  };
}

function reshapedFor(p: Preprocessing, input: readonly number[], source: string): Preprocessing {
  if (p.shape.length === input.length && p.shape.every((d, i) => d === input[i])) return p;
  const size = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
  if (input.length === 1 && size(p.shape) === input[0] && !p.steps.some((s) => s.kind === "lcn"))
    return { ...p, shape: [input[0]] };
  throw new OptionError(
    `${source}: the preprocessing applies to examples of shape [${p.shape}], the network takes [${input}]`,
  );
}

/** The most JSON the class names (and, apart, a CSV's column names) may take in a model file's info. */
const CLASS_NAMES_BYTES = 16384;

/**
 * How a run's CSV data was read, for predict: a CSV source's label column and delimiter where
 * given and the label's place in the file, and the training set's feature names (a header's
 * columns; also a library run's) where they fit as the class names do.
 */
function csvReading(c: TrainConfig): CsvReading | undefined {
  const { label, delimiter, labelIndex } = c.dataset === "csv" && c.source ? c.source : {};
  const names = c.featureNames;
  const columns = names && JSON.stringify(names).length <= CLASS_NAMES_BYTES ? names : undefined;
  if (label === undefined && delimiter === undefined && labelIndex === undefined && !columns) return undefined;
  return {
    ...(label !== undefined ? { label } : {}),
    ...(delimiter !== undefined ? { delimiter } : {}),
    ...(labelIndex !== undefined ? { labelIndex } : {}),
    ...(columns ? { columns } : {}),
  };
}

/** Provenance recorded in the model file. */
export function modelInfo(network: NetworkConfig, source: string, run: RunProvenance): ModelInfo {
  const c = run.config;
  const info: Record<string, unknown> = { producer: PRODUCER, source };
  if (c) {
    info.preset = c.preset;
    if (c.architecture) info.architecture = c.architecture;
    info.mode = c.mode;
    info.seed = c.seed;
    info.H = c.H;
    info.batchNorm = `${c.batchNorm.variant} (eps ${c.batchNorm.eps})`;
    if (c.dataset === "mnist") info.meanFrom = c.meanFrom;
    // the names where they leave the info well inside the format's 64 KiB (predict then prints them)
    if (c.classNames && JSON.stringify(c.classNames).length <= CLASS_NAMES_BYTES) info.classNames = c.classNames;
    // how the training CSV was read: predict reads rows the same way unless told otherwise
    const csv = csvReading(c);
    if (csv) info.csv = csv;
    info.testTime = testTimeToString(c.testTime);
  } else {
    info.mode = network.binarization;
    info.H = network.H;
  }
  if (run.epochsDone !== undefined) info.epoch = run.epochsDone;
  if (run.partial) info.stepsOfNextEpoch = run.partial.batch;
  // the errors measured at the best epoch are this model's only when it is that epoch's (best.bin)
  if (run.best && run.best.epoch === run.epochsDone && !run.partial) {
    info.validationError = run.best.valError;
    info.testError = run.best.testError;
  }
  info.weights = "binary: sign(W), zero maps to +H (deterministic binarization)";
  return info as ModelInfo;
}

/**
 * The .bcnet model: 1 bit per weight (Wb = H sign(W)), batch norm and H folded into a per-unit
 * (per-filter) scale and shift, ReLU where the network has it; a convolution's filters
 * W [kh, kw, Cin, Cout] are packed as a dense layer of kh kw Cin inputs. A stochastic layer is
 * exported with its binary test-time weights (paper section 2.6, mode 1). A layer with real
 * weights (binarize "none") has no binary weights: such a model is refused (its ONNX export
 * keeps the real weights).
 */
export function toBcnet(run: RunModel): BcnetModel {
  const real = run.layers.find((l) => l.kind !== "maxpool" && l.binarize === "none");
  if (real) {
    const all = run.layers.every((l) => l.kind === "maxpool" || l.binarize === "none");
    throw new OptionError(
      all
        ? `${run.source} was trained with real weights (--mode none): a .bcnet file holds binary weights only, and sign(W) of this model is not the network that was trained`
        : `${run.source} has layers with real weights (binarize "none"): a .bcnet file holds binary weights only`,
      'export it as ONNX, which keeps the real weights (model.exportOnnx(); the CLI: export --format onnx), or train it with binary layers (binarize "det" or "stoch"; the CLI: --mode det or stoch)',
    );
  }
  const layers = run.layers.map((l): BcnetLayer => {
    if (l.kind === "maxpool") return l;
    const { scale, shift } = foldBatchNorm(l.bn, l.H);
    const activation = l.relu ? "relu" : "identity";
    if (l.kind === "dense")
      return {
        kind: "dense",
        inputs: l.inputs,
        units: l.units,
        activation,
        bits: packSigns(l.W, l.inputs, l.units),
        scale,
        shift,
      };
    const { input, filters, kernel, stride, pad, pool } = l;
    return {
      kind: "conv",
      input,
      filters,
      kernel,
      stride,
      pad,
      pool,
      activation,
      bits: packSigns(l.W, kernel[0] * kernel[1] * input.channels, filters),
      scale,
      shift,
    };
  });
  const model = { inputs: run.inputs, preprocessing: run.preprocessing, layers, info: run.info };
  return run.image ? { ...model, image: run.image } : model;
}
