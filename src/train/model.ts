import type { Backend } from "../backends/backend.js";
import { OptionError } from "../core/errors.js";
import { denseWidths, parseArchitecture } from "../nn/architecture.js";
import { mlpNetwork, type MlpConfig } from "../nn/mlp.js";
import { Network, type NetworkConfig } from "../nn/network.js";
import { DATASET_IMAGE, isPaperDataset, type DatasetName, type TrainConfig } from "./config.js";

/** The MLP of a configuration without `architecture` (the paper's PI-MNIST network). */
export function mlpConfigOf(config: TrainConfig, inputs: number, classes: number): MlpConfig {
  return {
    inputs,
    hidden: config.hidden,
    classes,
    binarization: config.mode,
    H: config.H,
    dropout: config.dropout,
    batchNorm: config.batchNorm,
  };
}

/** The network of a configuration with `architecture`, on the dataset's images (or on `shape`). */
export function networkConfigOf(config: TrainConfig, shape?: readonly number[]): NetworkConfig {
  if (!config.architecture)
    throw new OptionError(
      `preset ${config.preset} describes an MLP (hidden ${config.hidden.join("-")}), not a network architecture`,
    );
  if (config.dropout.input > 0 || config.dropout.hidden > 0) {
    throw new OptionError(
      `--dropout is defined for MLPs (dense layers only); the network ${config.architecture} (preset ${config.preset}) has other layers`,
      "add dropout layers to a model built with the library instead",
    );
  }
  if (!shape && !isPaperDataset(config.dataset))
    throw new OptionError(
      "a network in the paper's notation needs a paper dataset's image shape, or an explicit network",
    );
  return {
    input: [...(shape ?? DATASET_IMAGE[config.dataset as DatasetName])],
    layers: parseArchitecture(config.architecture),
    binarization: config.mode,
    H: config.H,
    batchNorm: config.batchNorm,
  };
}

/**
 * The network of a run on own data (the CLI's --csv / --images) whose examples have `shape` and
 * `classes` classes: the configuration's `architecture`, whose last number must be the classes
 * (dense layers only: the MLP of those widths, as the presets train it, --dropout included), else
 * the MLP of its `hidden` widths.
 */
export function ownDataNetwork(
  config: TrainConfig,
  shape: readonly number[],
  classes: number,
  classesNote = "",
): NetworkConfig {
  const features = shape.reduce((a, b) => a * b, 1);
  if (!config.architecture) return onImages(mlpNetwork(mlpConfigOf(config, features, classes)), shape);
  const layers = parseArchitecture(config.architecture);
  const widths = denseWidths(layers);
  const out = [...layers].reverse().find((l) => l.kind === "dense");
  if (out?.kind === "dense" && out.units !== classes)
    throw new OptionError(
      `the architecture ${config.architecture} ends in ${out.units} classes; the data has ${classes}${classesNote}`,
      `end it with -${classes}`,
    );
  if (widths)
    return onImages(mlpNetwork({ ...mlpConfigOf(config, features, classes), hidden: widths.slice(0, -1) }), shape);
  if (shape.length !== 3)
    throw new OptionError(
      `the architecture ${config.architecture} has convolutions or pooling, which need images; the examples have shape [${shape}]`,
      "give the rows' image shape with --shape HxWxC, or an architecture of dense layers only",
    );
  return networkConfigOf({ ...config, dataset: "custom" }, shape);
}

/**
 * An MLP on examples of `shape`: on images ([H, W, C]) it takes the image and flattens it first,
 * so that its model file keeps the image's shape (predict then reads images, and an LCN
 * preprocessing, which needs the image, fits).
 */
function onImages(mlp: NetworkConfig, shape: readonly number[]): NetworkConfig {
  if (shape.length !== 3) return mlp;
  return { ...mlp, input: [...shape], layers: [{ kind: "flatten" }, ...mlp.layers] };
}

/**
 * The network a configuration trains: its explicit `network` (runs of the library), else the
 * network of `architecture` (the paper's CNNs), else the MLP of `hidden` over `features` inputs
 * and `classes` (default 10) classes.
 */
export function networkOf(config: TrainConfig, features: number): NetworkConfig {
  if (config.network) return config.network;
  if (config.architecture) return networkConfigOf(config);
  return mlpNetwork(mlpConfigOf(config, features, config.classes ?? 10));
}

/** The model a configuration trains, with weights from its seed; `features` must match its input. */
export function createModel(backend: Backend, config: TrainConfig, features: number): Network {
  const network = networkOf(config, features);
  const inputs = network.input.reduce((a, b) => a * b, 1);
  if (features !== inputs)
    throw new OptionError(
      `the data has ${features} values per example, the network expects [${network.input}] = ${inputs}`,
    );
  return Network.create(backend, network, config.seed);
}
