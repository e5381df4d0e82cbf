import type { Backend } from "../backends/backend.js";
import { OptionError } from "../core/errors.js";
import { parseArchitecture } from "../nn/architecture.js";
import { mlpNetwork, type MlpConfig } from "../nn/mlp.js";
import { Network, type NetworkConfig } from "../nn/network.js";
import { DATASET_IMAGE, type TrainConfig } from "./config.js";

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

/** The network of a configuration with `architecture`, on the dataset's images. */
export function networkConfigOf(config: TrainConfig): NetworkConfig {
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
  if (config.dataset === "custom")
    throw new OptionError(
      "a network in the paper's notation needs a paper dataset's image shape, or an explicit network",
    );
  return {
    input: [...DATASET_IMAGE[config.dataset]],
    layers: parseArchitecture(config.architecture),
    binarization: config.mode,
    H: config.H,
    batchNorm: config.batchNorm,
  };
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
