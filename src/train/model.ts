import type { Backend } from "../backends/backend.js";
import { OptionError } from "../core/errors.js";
import { parseArchitecture } from "../nn/architecture.js";
import { Mlp, type MlpConfig } from "../nn/mlp.js";
import { Network, type NetworkConfig } from "../nn/network.js";
import type { Sequential } from "../nn/sequential.js";
import { DATASET_IMAGE, type TrainConfig } from "./config.js";

/** The MLP of a configuration without `architecture` (the paper's PI-MNIST network). */
export function mlpConfigOf(config: TrainConfig, inputs: number, classes: number): MlpConfig {
  return { inputs, hidden: config.hidden, classes, binarization: config.mode, H: config.H, dropout: config.dropout, batchNorm: config.batchNorm };
}

/** The network of a configuration with `architecture`, on the dataset's images. */
export function networkConfigOf(config: TrainConfig): NetworkConfig {
  if (!config.architecture) throw new OptionError(`preset ${config.preset} describes an MLP (hidden ${config.hidden.join("-")}), not a network architecture`);
  if (config.dropout.input > 0 || config.dropout.hidden > 0) {
    throw new OptionError(`--dropout is defined for the MLP only (preset ${config.preset} is a CNN)`, "describe dropout layers through the Network API instead");
  }
  return {
    input: [...DATASET_IMAGE[config.dataset]], layers: parseArchitecture(config.architecture),
    binarization: config.mode, H: config.H, batchNorm: config.batchNorm,
  };
}

/**
 * The model a configuration trains, with weights from its seed: the network of `architecture`
 * (CNNs), else the MLP of `hidden` over `features` inputs. 10 classes (every dataset here).
 */
export function createModel(backend: Backend, config: TrainConfig, features: number): Sequential {
  if (config.architecture) {
    const net = Network.create(backend, networkConfigOf(config), config.seed);
    const [H, W, C] = DATASET_IMAGE[config.dataset];
    if (features !== H * W * C) throw new OptionError(`${config.dataset} examples have ${features} features, the network expects ${H}x${W}x${C} images`);
    return net;
  }
  return Mlp.create(backend, mlpConfigOf(config, features, 10), config.seed);
}
