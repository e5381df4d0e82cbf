import { ShapeError } from "../core/errors.js";
import {
  BCNET_MAGIC,
  HEADER_BYTES,
  LAYER_ENTRY_BYTES,
  LIMITS,
  formatVersionOf,
  layerSizes,
  layoutOf,
  type BcnetModel,
} from "./bcnet.js";
import { entryOf } from "./chain.js";
import { checkModel } from "./check.js";
import { crc32 } from "./crc32.js";
import { writeEntry } from "./layerTable.js";
import { PREPROCESS_ENTRY_BYTES, stepArrays, writeStepEntry, type PreprocessStep } from "./preprocessing.js";

/**
 * Writes a model as .bcnet bytes (docs/FORMAT.md), in the oldest version that holds it
 * (formatVersionOf: 1 for an MLP on feature vectors, 2 with an input image, convolutions or
 * pooling, both when the preprocessing is [scale, subtractMean]; 3 with any other
 * preprocessing). Deterministic: the same model gives the same bytes. Throws ShapeError when
 * the model contradicts itself (a layer's input is not the previous layer's output, an array of
 * the wrong length, a size past the format's limits, a preprocessing that does not fit the input).
 */
export function encodeBcnet(model: BcnetModel): Uint8Array {
  checkModel(model, "cannot write the model");
  const version = formatVersionOf(model);
  const info = new TextEncoder().encode(JSON.stringify(model.info));
  if (info.length > LIMITS.infoBytes)
    throw new ShapeError(`model info is ${info.length} bytes of JSON; at most ${LIMITS.infoBytes}`);
  const steps = model.preprocessing.steps;
  // Versions 1 and 2: the factor in the header, the mean as the one array; version 3: the table and every step's arrays.
  const arrays =
    version < 3 ? [(steps[1] as Extract<PreprocessStep, { kind: "subtractMean" }>).mean] : steps.flatMap(stepArrays);
  const layout = layoutOf(version, model.inputs, model.layers.map(layerSizes), info.length, {
    steps: version < 3 ? 0 : steps.length,
    arrays: arrays.map((a) => a.length),
  });
  const bytes = new Uint8Array(layout.fileBytes);
  const view = new DataView(bytes.buffer);
  bytes.set(BCNET_MAGIC, 0);
  view.setUint32(8, version, true);
  view.setUint32(12, layout.fileBytes, true);
  view.setUint32(20, model.inputs, true);
  view.setUint32(24, model.layers.length, true);
  view.setUint32(28, info.length, true);
  if (version < 3) view.setFloat32(32, (steps[0] as Extract<PreprocessStep, { kind: "scale" }>).factor, true);
  else view.setUint32(32, steps.length, true);
  // Version 2: the input image (1 x 1 x inputs without one); version 3: the image, or zeros for a feature vector.
  const image = model.image ?? (version === 2 ? { height: 1, width: 1, channels: model.inputs } : undefined);
  if (version >= 2 && image) {
    view.setUint32(36, image.height, true);
    view.setUint32(40, image.width, true);
    view.setUint32(44, image.channels, true);
  }
  model.layers.forEach((l, i) => {
    writeEntry(view, HEADER_BYTES + i * LAYER_ENTRY_BYTES[version], version, entryOf(l));
  });
  if (version === 3)
    steps.forEach((s, i) => {
      writeStepEntry(view, layout.steps + i * PREPROCESS_ENTRY_BYTES, s);
    });
  bytes.set(info, layout.info);
  for (const [i, a] of arrays.entries()) putFloats(view, layout.arrays[i], a);
  model.layers.forEach((l, i) => {
    if (l.kind === "maxpool") return;
    const at = layout.layers[i];
    putFloats(view, at.scale, l.scale);
    putFloats(view, at.shift, l.shift);
    bytes.set(l.bits, at.bits);
  });
  view.setUint32(16, crc32(bytes.subarray(20)), true);
  return bytes;
}

function putFloats(view: DataView, offset: number, values: Float32Array): void {
  for (let i = 0; i < values.length; i++) view.setFloat32(offset + 4 * i, values[i], true);
}
