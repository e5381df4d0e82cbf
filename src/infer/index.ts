/**
 * `binaryconnect/infer`: run a trained BinaryConnect network (.bcnet file) in Node.js or a web
 * page. No training code, no Node API: the model decoder (src/format), the multiply-free
 * WebAssembly SIMD engine (the lookup-table kernels for dense layers and convolutions,
 * embedded as base64) and a plain-JS fallback. MLPs and CNNs (NHWC images). Usage:
 *
 *   import { BinaryClassifier } from "binaryconnect/infer";
 *   const net = await BinaryClassifier.load(bytes);      // Uint8Array | ArrayBuffer of a .bcnet file
 *   const { labels, scores } = net.predict(pixels);       // 784 values 0..255 per image (a CNN: H x W x C, NHWC)
 *
 * predict applies the model's preprocessing (scale and mean; or GCN, ZCA whitening, LCN), so a
 * model takes raw pixels.
 */
export { BinaryClassifier, type ClassifierOptions, type Engine, type Prediction } from "./classifier.js";
export { forwardReference, preprocess } from "./reference.js";
export { wasmSimdAvailable, inferModuleBytes } from "./module.js";
export { decodeBcnet, type DecodeOptions } from "../format/decode.js";
export { allowedWork, modelCost, PATCH_WORK, type ComputeCost, type LayerCost } from "../format/cost.js";
export {
  describePreprocessing,
  scaleMeanOf,
  type PreprocessStep,
  type Preprocessing,
  type ScaleMean,
} from "../format/preprocessing.js";
export { preprocessRows } from "../format/preprocessSteps.js";
export {
  architecture,
  classesOf,
  float32Bytes,
  formatVersionOf,
  rowBytes,
  BCNET_VERSION,
  BCNET_VERSIONS,
  type Activation,
  type BcnetConv,
  type BcnetDense,
  type BcnetLayer,
  type BcnetMaxPool,
  type BcnetModel,
  type ImageShape,
  type ModelInfo,
  type PoolSpec,
} from "../format/bcnet.js";
export {
  BinaryConnectError,
  DataFormatError,
  ModelFormatError,
  OptionError,
  ShapeError,
  type ModelFormatProblem,
} from "../core/errors.js";
