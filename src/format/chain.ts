import { LIMITS, type Activation, type LayerHead, type PoolSpec } from "./bcnet.js";
import { convOutputShape, imageSize, poolOutputShape, shapeText, type ImageShape, type Pair } from "./shapes.js";

/** A layer as the layer table describes it: its kind and sizes, not yet its input. */
export type LayerEntry =
  | { kind: "dense"; units: number; activation: Activation }
  | {
      kind: "conv";
      filters: number;
      kernel: Pair;
      stride: Pair;
      pad: Pair;
      pool: PoolSpec | null;
      activation: Activation;
    }
  | { kind: "maxpool"; window: Pair; stride: Pair };

/** The entry of a layer (drops its input shape and arrays). */
export function entryOf(layer: LayerHead): LayerEntry {
  switch (layer.kind) {
    case "dense":
      return { kind: "dense", units: layer.units, activation: layer.activation };
    case "conv":
      return {
        kind: "conv",
        filters: layer.filters,
        kernel: layer.kernel,
        stride: layer.stride,
        pad: layer.pad,
        pool: layer.pool,
        activation: layer.activation,
      };
    case "maxpool":
      return { kind: "maxpool", window: layer.window, stride: layer.stride };
  }
}

/**
 * Follows one example through the layers and gives each its input: a dense layer takes every
 * value of the previous output (an image flattened in NHWC order); convolutions and pooling
 * need an image (the model's input image, or the output of a convolution or pooling). Checks
 * every size against LIMITS, that every window fits its (padded) input, and that the last
 * layer is dense (the class scores). `fail` says what is wrong (it must throw).
 */
export function chainLayers(
  inputs: number,
  image: ImageShape | undefined,
  entries: readonly LayerEntry[],
  fail: (what: string) => never,
): LayerHead[] {
  const inRange = (n: number, lo: number, hi: number) => Number.isInteger(n) && n >= lo && n <= hi;
  let current: ImageShape | number = image ?? inputs;
  const heads: LayerHead[] = [];
  entries.forEach((e, i) => {
    const at = `layer ${i} (${e.kind})`;
    if (e.kind === "dense") {
      if (!inRange(e.units, 1, LIMITS.units)) fail(`${at} has ${e.units} units; the format allows 1..${LIMITS.units}`);
      const fanIn = typeof current === "number" ? current : imageSize(current);
      if (fanIn > LIMITS.units) fail(`${at} has ${fanIn} inputs; the format allows at most ${LIMITS.units}`);
      heads.push({ kind: "dense", inputs: fanIn, units: e.units, activation: e.activation });
      current = e.units;
      return;
    }
    if (typeof current === "number")
      fail(
        `${at} needs an image, but its input is ${current} features (a dense layer's outputs or a model without an input image)`,
      );
    const input = current as ImageShape;
    const window = (p: Pair, what: string, lo = 1) => {
      if (!inRange(p[0], lo, LIMITS.window) || !inRange(p[1], lo, LIMITS.window))
        fail(`${at}: ${what} ${p[0]}x${p[1]}; the format allows ${lo}..${LIMITS.window} per side`);
    };
    const output = (s: ImageShape, what: string) => {
      if (s.height < 1 || s.width < 1) fail(`${at}: the ${what} does not fit its ${shapeText(input)} input`);
      if (imageSize(s) > LIMITS.activations)
        fail(`${at}: its ${shapeText(s)} output exceeds the format's ${LIMITS.activations} values per example`);
      return s;
    };
    if (e.kind === "maxpool") {
      window(e.window, "window");
      window(e.stride, "stride");
      heads.push({ kind: "maxpool", input, window: e.window, stride: e.stride });
      current = output(poolOutputShape(input, e.window, e.stride), `${e.window[0]}x${e.window[1]} window`);
      return;
    }
    if (!inRange(e.filters, 1, LIMITS.units))
      fail(`${at} has ${e.filters} filters; the format allows 1..${LIMITS.units}`);
    window(e.kernel, "kernel");
    window(e.stride, "stride");
    if (!inRange(e.pad[0], 0, e.kernel[0] - 1) || !inRange(e.pad[1], 0, e.kernel[1] - 1))
      fail(`${at}: padding ${e.pad[0]}x${e.pad[1]}; expected 0..kernel-1 per side`);
    if (e.kernel[0] * e.kernel[1] * input.channels > LIMITS.units)
      fail(`${at}: a patch of ${e.kernel[0]}x${e.kernel[1]}x${input.channels} exceeds ${LIMITS.units} inputs`);
    let out = output(
      convOutputShape(input, e.filters, e.kernel, e.stride, e.pad),
      `${e.kernel[0]}x${e.kernel[1]} kernel`,
    );
    if (e.pool) {
      window(e.pool.window, "pooling window");
      window(e.pool.stride, "pooling stride");
      out = output(
        poolOutputShape(out, e.pool.window, e.pool.stride),
        `${e.pool.window[0]}x${e.pool.window[1]} pooling window`,
      );
    }
    heads.push({
      kind: "conv",
      input,
      filters: e.filters,
      kernel: e.kernel,
      stride: e.stride,
      pad: e.pad,
      pool: e.pool,
      activation: e.activation,
    });
    current = out;
  });
  if (heads.length > 0 && heads[heads.length - 1].kind !== "dense")
    fail(`the last layer is ${heads[heads.length - 1].kind}; it must be dense (the class scores)`);
  return heads;
}
