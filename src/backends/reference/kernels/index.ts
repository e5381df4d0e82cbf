import type { KernelTable } from "../../backend.js";
import type { ReferenceBackend } from "../index.js";
import { adam } from "./adam.js";
import { batchNormBackward } from "./batchNormBackward.js";
import { batchNormInfer } from "./batchNormInfer.js";
import { batchNormTrain } from "./batchNormTrain.js";
import { biasAdd } from "./biasAdd.js";
import { binarize } from "./binarize.js";
import { binaryMatmul } from "./binaryMatmul.js";
import { columnSum } from "./columnSum.js";
import { conv2d } from "./conv2d.js";
import { conv2dBackwardFilter } from "./conv2dBackwardFilter.js";
import { conv2dBackwardInput } from "./conv2dBackwardInput.js";
import { copy } from "./copy.js";
import { dropout } from "./dropout.js";
import { fill } from "./fill.js";
import { matmul } from "./matmul.js";
import { maxPool } from "./maxPool.js";
import { maxPoolBackward } from "./maxPoolBackward.js";
import { multiply } from "./multiply.js";
import { relu } from "./relu.js";
import { reluBackward } from "./reluBackward.js";
import { squareHingeLoss } from "./squareHingeLoss.js";

/** Every kernel of the reference backend (a missing one fails the type check). */
export const KERNELS: KernelTable<ReferenceBackend> = {
  matmul,
  binaryMatmul,
  biasAdd,
  columnSum,
  batchNormTrain,
  batchNormInfer,
  batchNormBackward,
  relu,
  reluBackward,
  dropout,
  multiply,
  squareHingeLoss,
  binarize,
  adam,
  fill,
  copy,
  conv2d,
  conv2dBackwardInput,
  conv2dBackwardFilter,
  maxPool,
  maxPoolBackward,
};
