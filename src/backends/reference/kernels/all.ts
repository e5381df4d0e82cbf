// Every kernel of the reference backend, one re-export per kernel file (kernels/<name>.ts): the
// table in index.ts is this module's namespace.
export { adam } from "./adam.js";
export { batchNormBackward } from "./batchNormBackward.js";
export { batchNormInfer } from "./batchNormInfer.js";
export { batchNormTrain } from "./batchNormTrain.js";
export { biasAdd } from "./biasAdd.js";
export { binarize } from "./binarize.js";
export { binaryMatmul } from "./binaryMatmul.js";
export { columnSum } from "./columnSum.js";
export { conv2d } from "./conv2d.js";
export { conv2dBackwardFilter } from "./conv2dBackwardFilter.js";
export { conv2dBackwardInput } from "./conv2dBackwardInput.js";
export { copy } from "./copy.js";
export { dropout } from "./dropout.js";
export { fill } from "./fill.js";
export { matmul } from "./matmul.js";
export { maxPool } from "./maxPool.js";
export { maxPoolBackward } from "./maxPoolBackward.js";
export { multiply } from "./multiply.js";
export { relu } from "./relu.js";
export { reluBackward } from "./reluBackward.js";
export { squareHingeLoss } from "./squareHingeLoss.js";
