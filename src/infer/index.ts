/**
 * `binaryconnect/infer`: run a trained BinaryConnect network (.bcnet file) in Node.js or a web
 * page. No training code, no Node API: the model decoder (src/format), the multiply-free
 * WebAssembly SIMD engine (the lookup-table kernel, embedded as base64) and a plain-JS
 * fallback. Usage:
 *
 *   import { BinaryClassifier } from "binaryconnect/infer";
 *   const net = await BinaryClassifier.load(bytes);      // Uint8Array | ArrayBuffer of a .bcnet file
 *   const { labels, scores } = net.predict(pixels);       // 784 values 0..255 per image
 */
export { BinaryClassifier, type ClassifierOptions, type Engine, type Prediction } from "./classifier.js";
export { forwardReference, preprocess } from "./reference.js";
export { wasmSimdAvailable, inferModuleBytes } from "./module.js";
export { decodeBcnet } from "../format/decode.js";
export { architecture, float32Bytes, rowBytes, BCNET_VERSION, type Activation, type BcnetLayer, type BcnetModel, type ModelInfo } from "../format/bcnet.js";
export { BinaryConnectError, ModelFormatError, OptionError, ShapeError, type ModelFormatProblem } from "../core/errors.js";
