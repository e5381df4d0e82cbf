import { ShapeError } from "../core/errors.js";
import { BCNET_MAGIC, HEADER_BYTES, LAYER_ENTRY_BYTES, LIMITS, formatVersionOf, layerSizes, layoutOf, type BcnetModel } from "./bcnet.js";
import { entryOf } from "./chain.js";
import { checkModel } from "./check.js";
import { crc32 } from "./crc32.js";
import { writeEntry } from "./layerTable.js";

/**
 * Writes a model as .bcnet bytes (docs/FORMAT.md), in the oldest version that holds it
 * (formatVersionOf: 1 for an MLP on feature vectors, 2 with an input image, convolutions or
 * pooling). Deterministic: the same model gives the same bytes. Throws ShapeError when the
 * model contradicts itself (a layer's input is not the previous layer's output, an array of
 * the wrong length, a size past the format's limits).
 */
export function encodeBcnet(model: BcnetModel): Uint8Array {
  checkModel(model, "cannot write the model");
  const version = formatVersionOf(model);
  const info = new TextEncoder().encode(JSON.stringify(model.info));
  if (info.length > LIMITS.infoBytes) throw new ShapeError(`model info is ${info.length} bytes of JSON; at most ${LIMITS.infoBytes}`);
  const layout = layoutOf(version, model.inputs, model.layers.map(layerSizes), info.length);
  const bytes = new Uint8Array(layout.fileBytes);
  const view = new DataView(bytes.buffer);
  bytes.set(BCNET_MAGIC, 0);
  view.setUint32(8, version, true);
  view.setUint32(12, layout.fileBytes, true);
  view.setUint32(20, model.inputs, true);
  view.setUint32(24, model.layers.length, true);
  view.setUint32(28, info.length, true);
  view.setFloat32(32, model.preprocess.inputScale, true);
  if (version === 2) {
    const { height, width, channels } = model.image ?? { height: 1, width: 1, channels: model.inputs };
    view.setUint32(36, height, true);
    view.setUint32(40, width, true);
    view.setUint32(44, channels, true);
  }
  model.layers.forEach((l, i) => writeEntry(view, HEADER_BYTES + i * LAYER_ENTRY_BYTES[version], version, entryOf(l)));
  bytes.set(info, layout.info);
  putFloats(view, layout.mean, model.preprocess.mean);
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
