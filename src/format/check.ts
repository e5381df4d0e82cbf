import { ShapeError } from "../core/errors.js";
import { ACTIVATIONS, LIMITS, fanIn, fanOut, rowBytes, type BcnetModel, type LayerHead } from "./bcnet.js";
import { chainLayers, entryOf } from "./chain.js";
import { checkPreprocessing } from "./preprocessing.js";
import { imageSize, sameShape, shapeText } from "./shapes.js";

/**
 * Checks that a model (built in memory, not decoded) is one the format can hold and that it
 * agrees with itself: sizes within LIMITS, each layer's input the previous layer's output,
 * arrays of the right lengths, the image's size equal to `inputs`, a dense last layer, a
 * preprocessing on the model's input (checkPreprocessing).
 * Throws a ShapeError saying what is wrong (`what` names the caller: "cannot write the model").
 */
export function checkModel(model: BcnetModel, what = "invalid model"): void {
  const fail = (why: string): never => {
    throw new ShapeError(`${what}: ${why}`);
  };
  if (!Number.isInteger(model.inputs) || model.inputs < 1 || model.inputs > LIMITS.units)
    fail(`inputs is ${model.inputs}; expected an integer in 1..${LIMITS.units}`);
  if (model.image) {
    const { height, width, channels } = model.image;
    if (![height, width, channels].every((n) => Number.isInteger(n) && n >= 1))
      fail(`image ${shapeText(model.image)}: every side must be a positive integer`);
    if (imageSize(model.image) !== model.inputs)
      fail(`the ${shapeText(model.image)} image has ${imageSize(model.image)} values but inputs is ${model.inputs}`);
  }
  if (model.layers.length < 1 || model.layers.length > LIMITS.layers)
    fail(`${model.layers.length} layers; expected 1..${LIMITS.layers}`);
  model.layers.forEach((l, i) => {
    if (l.kind !== "maxpool" && !ACTIVATIONS.includes(l.activation))
      fail(`layer ${i}: unknown activation ${String(l.activation)}`);
  });
  const heads = chainLayers(model.inputs, model.image, model.layers.map(entryOf), fail);
  model.layers.forEach((l, i) => {
    const h: LayerHead = heads[i];
    if (l.kind === "dense" && h.kind === "dense" && l.inputs !== h.inputs)
      fail(`layer ${i} has ${l.inputs} inputs but the previous layer gives ${h.inputs}`);
    if (l.kind !== "dense" && h.kind !== "dense" && !sameShape(l.input, h.input))
      fail(`layer ${i} takes a ${shapeText(l.input)} image but the previous layer gives ${shapeText(h.input)}`);
    if (l.kind === "maxpool") return;
    const n = fanOut(l),
      rb = rowBytes(fanIn(l));
    if (l.scale.length !== n || l.shift.length !== n)
      fail(
        `layer ${i}: scale/shift have ${l.scale.length}/${l.shift.length} values for ${n} ${l.kind === "dense" ? "units" : "filters"}`,
      );
    if (l.bits.length !== n * rb) fail(`layer ${i}: ${l.bits.length} bytes of bits; expected ${n} x ${rb}`);
  });
  if (typeof model.preprocessing !== "object" || model.preprocessing === null)
    fail("the model has no preprocessing (give { shape, steps: [] } for none)");
  checkPreprocessing(model.preprocessing, model.inputs, model.image, fail);
}
