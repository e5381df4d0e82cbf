/**
 * What one example costs a .bcnet model, from its shapes alone (docs/FORMAT.md, "Compute
 * bounds"), and the bound the loader holds a file to: a file of a few kilobytes must not be
 * able to ask for minutes of work per example (convolutions whose padding grows a 1 x 1 input
 * to thousands of positions). Pure TypeScript, no Node API.
 *
 * Work per example, in operations:
 * - a dense layer: inputs x units (its multiply-adds; binary: adds and subtracts);
 * - a convolution: positions x fan-in x (filters + PATCH_WORK), positions being its output
 *   positions before pooling, fan-in kh kw Cin: the multiply-adds, plus unfolding each
 *   position's patch and building its lookup tables, which costs the engine about as much as
 *   PATCH_WORK filters; its pooling adds the pooled values x the window;
 * - a max-pool layer: output values x window;
 * - the preprocessing: inputs per step, a ZCA inputs^2 + inputs, an LCN (4 K + 6) inputs.
 * Weights: the binary weights (fan-in x units or filters, summed) plus the floats the
 * preprocessing stores (a mean, a ZCA's P): what the file's size pays for.
 */
import { LIMITS, fanIn, fanOut, imageOutput, type BcnetModel, type LayerHead } from "./bcnet.js";
import type { PreprocessStep } from "./preprocessing.js";
import { convOutputShape, imageSize, shapeText, type ImageShape } from "./shapes.js";

/** Filters' worth of work a convolution spends per output position on its patch (measured on the wasm engine: ~60). */
export const PATCH_WORK = 64;

/** The cost of one layer for one example. */
export interface LayerCost {
  /** Operations (see the module comment). */
  readonly work: number;
  /** Multiply-adds of a dense layer or a convolution (0 for max pooling). */
  readonly multiplyAdds: number;
  /** Binary weights (0 for max pooling). */
  readonly weights: number;
  /** Values of the layer's output (a convolution: the larger of its output before and after pooling). */
  readonly activation: number;
}

/** What one example costs a model (computeCost). */
export interface ComputeCost {
  /** Operations per example: the preprocessing's and every layer's. */
  readonly work: number;
  /** Multiply-adds per example of the dense layers and convolutions. */
  readonly multiplyAdds: number;
  /** Binary weights plus the preprocessing's stored floats. */
  readonly weights: number;
  /** The largest activation: values per example of the largest layer output (or of the input). */
  readonly largestActivation: number;
  /** Operations of the preprocessing. */
  readonly preprocessing: number;
  /** Per layer, in order. */
  readonly layers: readonly LayerCost[];
}

/** The work a model may do per example (LIMITS): below `free` always, else at most `perWeight` per weight and `work` in all. */
export function allowedWork(weights: number): number {
  return Math.min(LIMITS.work, Math.max(LIMITS.freeWork, LIMITS.workPerWeight * weights));
}

/** The cost of one layer (its head: kind and shapes). */
export function layerCost(layer: LayerHead): LayerCost {
  if (layer.kind === "dense") {
    const n = layer.inputs * layer.units;
    return { work: n, multiplyAdds: n, weights: n, activation: layer.units };
  }
  const out = imageOutput(layer);
  if (layer.kind === "maxpool")
    return {
      work: imageSize(out) * layer.window[0] * layer.window[1],
      multiplyAdds: 0,
      weights: 0,
      activation: imageSize(out),
    };
  const conv = convOutputShape(layer.input, layer.filters, layer.kernel, layer.stride, layer.pad);
  const positions = conv.height * conv.width,
    k = fanIn(layer),
    f = fanOut(layer);
  const pooling = layer.pool ? imageSize(out) * layer.pool.window[0] * layer.pool.window[1] : 0;
  return {
    work: positions * k * (f + PATCH_WORK) + pooling,
    multiplyAdds: positions * k * f,
    weights: k * f,
    activation: Math.max(imageSize(conv), imageSize(out)),
  };
}

/** Operations of one preprocessing step on `inputs` values. */
function stepWork(step: Pick<PreprocessStep, "kind"> & { kernel?: number }, inputs: number): number {
  switch (step.kind) {
    case "zca":
      return inputs * inputs + inputs;
    case "lcn":
      return (4 * (step.kernel ?? 1) + 6) * inputs;
    case "gcn":
      return 3 * inputs;
    default:
      return inputs;
  }
}

/** Floats a preprocessing step stores. */
function stepWeights(kind: PreprocessStep["kind"], inputs: number): number {
  return kind === "subtractMean" ? inputs : kind === "zca" ? inputs + inputs * inputs : 0;
}

/** The cost of a model (or of a decoded header: its inputs, layer heads and preprocessing steps). */
export function computeCost(
  inputs: number,
  layers: readonly LayerHead[],
  steps: readonly PreprocessStep[],
): ComputeCost {
  const perLayer = layers.map(layerCost);
  const preprocessing = steps.reduce((s, step) => s + stepWork(step, inputs), 0);
  const sum = (f: (c: LayerCost) => number) => perLayer.reduce((s, c) => s + f(c), 0);
  return {
    work: preprocessing + sum((c) => c.work),
    multiplyAdds: sum((c) => c.multiplyAdds),
    weights: sum((c) => c.weights) + steps.reduce((s, step) => s + stepWeights(step.kind, inputs), 0),
    largestActivation: Math.max(inputs, ...perLayer.map((c) => c.activation)),
    preprocessing,
    layers: perLayer,
  };
}

/** The cost of a model. */
export function modelCost(model: BcnetModel): ComputeCost {
  return computeCost(model.inputs, model.layers, model.preprocessing.steps);
}

/**
 * Checks a model's work per example against allowedWork (LIMITS: freeWork, workPerWeight,
 * work); `fail` gets what is wrong (it must throw): the first layer at which the work so far
 * passes the bound, its shapes and the numbers.
 */
export function checkCompute(cost: ComputeCost, layers: readonly LayerHead[], fail: (what: string) => never): void {
  const allowed = allowedWork(cost.weights);
  if (cost.work <= allowed) return;
  let sofar = cost.preprocessing,
    at = -1;
  while (sofar <= allowed && at + 1 < layers.length) sofar += cost.layers[++at].work;
  const where = at < 0 ? "the preprocessing" : `layer ${at} (${layerText(layers[at])})`;
  const ratio = cost.work / Math.max(1, cost.weights);
  const bound =
    allowed === LIMITS.work
      ? `the format allows at most ${big(LIMITS.work)} operations per example`
      : `a model of ${big(cost.weights)} weights may do ${big(allowed)} operations per example (${big(LIMITS.workPerWeight)} per weight, at least ${big(LIMITS.freeWork)}, at most ${big(LIMITS.work)})`;
  fail(
    `${where} brings the work per example to ${big(sofar)} operations; the whole model does ${big(cost.work)} (${big(cost.multiplyAdds)} multiply-adds, ${big(Math.round(ratio))} per weight, ` +
      `largest activation ${big(cost.largestActivation)} values) but ${bound}: padding or strides that make a layer's output far larger than its input, or a file that does not hold the weights such work needs`,
  );
}

/** "conv 1x1x1 -> 32x32x1, kernel 32x32, padding 31x31" for messages. */
function layerText(l: LayerHead): string {
  if (l.kind === "dense") return `dense ${l.inputs} -> ${l.units}`;
  const out: ImageShape = imageOutput(l);
  if (l.kind === "maxpool")
    return `maxpool ${shapeText(l.input)} -> ${shapeText(out)}, window ${l.window[0]}x${l.window[1]}`;
  return `conv ${shapeText(l.input)} -> ${shapeText(out)}, kernel ${l.kernel[0]}x${l.kernel[1]}, stride ${l.stride[0]}x${l.stride[1]}, padding ${l.pad[0]}x${l.pad[1]}`;
}

/** 1.23e9 for large numbers, plain digits up to 10^6. */
function big(n: number): string {
  return n < 1e6 ? `${n}` : n.toExponential(2).replace("e+", "e");
}
