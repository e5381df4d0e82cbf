/**
 * Datasets (browser-safe part): from arrays, from image files' bytes, from CSV text. Every
 * loader returns the same Dataset type (data/dataset.ts); the Node entry adds the file loaders
 * (api/dataNode.ts).
 */
export { fromArrays, sliceDataset, type Dataset, type FromArraysOptions, type NumericArray } from "../data/dataset.js";
export {
  decodeImage,
  imageDataset,
  type ImageDatasetOptions,
  type ImageExampleShape,
  type ImageFile,
} from "../data/image.js";
export { parseCsv, parseCsvTable, type CsvOptions, type CsvTable } from "../data/csv.js";
export {
  applyPreprocessing,
  fitPreprocessing,
  preprocessDataset,
  type Preprocessing,
  type PreprocessSpec,
  type PreprocessStep,
} from "../data/preprocessing.js";
