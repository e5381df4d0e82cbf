import { ShapeError } from "../core/errors.js";
import {
  ACTIVATIONS, BCNET_MAGIC, BCNET_VERSION, HEADER_BYTES, LAYER_ENTRY_BYTES, LAYER_KIND_BINARY_DENSE, LIMITS,
  layoutOf, rowBytes, type BcnetModel,
} from "./bcnet.js";
import { crc32 } from "./crc32.js";

/**
 * Writes a model as .bcnet bytes (docs/FORMAT.md). Deterministic: the same model gives the
 * same bytes. Throws ShapeError when the model contradicts itself (a layer's inputs are not
 * the previous layer's units, an array of the wrong length, a size past the format's limits).
 */
export function encodeBcnet(model: BcnetModel): Uint8Array {
  checkModel(model);
  const info = new TextEncoder().encode(JSON.stringify(model.info));
  if (info.length > LIMITS.infoBytes) throw new ShapeError(`model info is ${info.length} bytes of JSON; at most ${LIMITS.infoBytes}`);
  const layout = layoutOf(model.inputs, model.layers.map((l) => l.units), info.length);
  const bytes = new Uint8Array(layout.fileBytes);
  const view = new DataView(bytes.buffer);
  bytes.set(BCNET_MAGIC, 0);
  view.setUint32(8, BCNET_VERSION, true);
  view.setUint32(12, layout.fileBytes, true);
  view.setUint32(20, model.inputs, true);
  view.setUint32(24, model.layers.length, true);
  view.setUint32(28, info.length, true);
  view.setFloat32(32, model.preprocess.inputScale, true);
  model.layers.forEach((l, i) => {
    const e = HEADER_BYTES + i * LAYER_ENTRY_BYTES;
    view.setUint32(e, LAYER_KIND_BINARY_DENSE, true);
    view.setUint32(e + 4, l.units, true);
    view.setUint32(e + 8, ACTIVATIONS.indexOf(l.activation), true);
  });
  bytes.set(info, layout.info);
  putFloats(view, layout.mean, model.preprocess.mean);
  model.layers.forEach((l, i) => {
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

function checkModel(model: BcnetModel): void {
  const fail = (what: string): never => {
    throw new ShapeError(`cannot write the model: ${what}`);
  };
  const size = (n: number, what: string) => {
    if (!Number.isInteger(n) || n < 1 || n > LIMITS.units) fail(`${what} is ${n}; expected an integer in 1..${LIMITS.units}`);
  };
  size(model.inputs, "inputs");
  if (model.layers.length < 1 || model.layers.length > LIMITS.layers) fail(`${model.layers.length} layers; expected 1..${LIMITS.layers}`);
  if (model.preprocess.mean.length !== model.inputs) fail(`the mean has ${model.preprocess.mean.length} values for ${model.inputs} inputs`);
  let fanIn = model.inputs;
  model.layers.forEach((l, i) => {
    size(l.units, `layer ${i} units`);
    if (l.inputs !== fanIn) fail(`layer ${i} has ${l.inputs} inputs but the previous layer gives ${fanIn}`);
    if (l.scale.length !== l.units || l.shift.length !== l.units) fail(`layer ${i}: scale/shift have ${l.scale.length}/${l.shift.length} values for ${l.units} units`);
    if (l.bits.length !== l.units * rowBytes(l.inputs)) fail(`layer ${i}: ${l.bits.length} bytes of bits; expected ${l.units} x ${rowBytes(l.inputs)}`);
    if (!ACTIVATIONS.includes(l.activation)) fail(`layer ${i}: unknown activation ${String(l.activation)}`);
    fanIn = l.units;
  });
}
