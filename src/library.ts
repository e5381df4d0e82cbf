/**
 * The library, as it runs anywhere (Node.js and browsers): models, layers, training,
 * evaluation, prediction, saving, presets, preprocessing, backends. src/index.ts (Node) and
 * src/browser.ts add each platform's data loaders and storage.
 */
export {
  Model,
  type ModelOptions,
  type ModelSummary,
  type Prediction,
  type PredictInput,
  type TestTimeOption,
  type TrainingState,
} from "./api/model.js";
export type { FitCallbacks, FitOptions, History } from "./api/fit.js";
export { sequential, fromArchitecture, parseNotation, type SequentialOptions } from "./api/sequential.js";
export * as layers from "./api/layers.js";
export * as presets from "./api/presets.js";
export { loadModel, modelFromBytes, type SaveOptions } from "./api/persist.js";
export { preprocess, type Preprocessing, type PreprocessSpec, type PreprocessStep } from "./data/preprocessing.js";
export type { Dataset } from "./data/dataset.js";
export type { LayerSpec, BinaryOptions, BatchNormSpecOptions } from "./nn/architecture.js";
export type { NetworkConfig } from "./nn/network.js";
export type { Binarization, TestTime } from "./nn/binarization.js";
export type { EpochRecord, Best } from "./train/loop.js";
export { createBackend, BACKEND_NAMES, type BackendName, type BackendOptions } from "./backends/index.js";
export type { Backend } from "./backends/backend.js";
export {
  BinaryConnectError,
  BackendError,
  CheckpointError,
  DataFormatError,
  ModelFormatError,
  NumericalError,
  OptionError,
  RunInUseError,
  ShapeError,
  StorageError,
  UsageError,
} from "./core/errors.js";
