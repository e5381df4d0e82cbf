import type { Backend } from "../backends/backend.js";
import { OptionError } from "../core/errors.js";
import { Xoshiro128 } from "../core/rng.js";
import { Tensor } from "../core/tensor.js";
import type { BatchNormVariant } from "../kernels/contract.js";
import { ADAM_DEFAULTS, type AdamOptions } from "../optim/adam.js";
import { layerOutputShape, unknownLayer, type LayerSpec } from "./architecture.js";
import { BatchNorm, checkBatchNormOptions } from "./batchNorm.js";
import { checkBinarization, type Binarization } from "./binarization.js";
import { Conv2D } from "./conv2d.js";
import { Dense } from "./dense.js";
import { Dropout } from "./dropout.js";
import type { Layer } from "./layer.js";
import { MaxPool2D } from "./maxPool.js";
import { glorotUniformBound } from "./param.js";
import { Relu } from "./relu.js";
import { Reshape } from "./reshape.js";
import { Sequential } from "./sequential.js";

/** A network described layer by layer: what the engine builds (the public Model's `spec`). */
export interface NetworkConfig {
  /** One example: [H, W, C] (an NHWC image, stored as H W C features) or [F] (a feature vector). */
  input: number[];
  /** The layers in order; the last dense layer's units are the classes. */
  layers: LayerSpec[];
  /** The default binarization of conv and dense layers that do not set their own. */
  binarization: Binarization;
  /** The default binary weight magnitude (1 in the authors' code). */
  H: number;
  /** The default batch-norm settings. */
  batchNorm: { variant: BatchNormVariant; eps: number; momentum: number };
  adam?: AdamOptions;
  /** Random-stream slots reserved per step (default NETWORK_SLOTS_PER_STEP). */
  slotsPerStep?: number;
}

/** Random-stream slots per step: binarized layers and dropouts take 0, 1, ... in order unless they pin one. */
export const NETWORK_SLOTS_PER_STEP = 32;

/**
 * A BinaryConnect network of any sequence of convolutions, max pooling, dense layers, batch
 * norm (over channels: the last axis), ReLU and dropout, real and binary layers mixed (each
 * conv or dense layer binarized per its own options, else the network's default; the first and
 * last included, as the authors); no biases (batch norm follows). Input rows of H W C features
 * are seen as NHWC images.
 */
export class Network extends Sequential {
  /** The weighted layers (conv and dense), in order. */
  readonly weighted: (Conv2D | Dense)[];

  private constructor(
    backend: Backend,
    readonly config: NetworkConfig,
    seed: number,
  ) {
    const slots = config.slotsPerStep ?? NETWORK_SLOTS_PER_STEP;
    super(backend, buildLayers(backend, config, slots), seed, slots, config.adam ?? ADAM_DEFAULTS);
    this.weighted = this.layers.filter((l): l is Conv2D | Dense => l instanceof Conv2D || l instanceof Dense);
  }

  /**
   * A new network with weights from `seed`: binarized layers U(-H, H) (authors' code), real
   * ones Glorot-uniform with Lasagne's fans (conv: kh kw Cin and kh kw Cout).
   */
  static create(backend: Backend, config: NetworkConfig, seed: number): Network {
    const net = new Network(backend, config, seed);
    const rng = new Xoshiro128(seed);
    for (const l of net.weighted) {
      const [fanIn, fanOut] = fans(l);
      const bound = l.opts.binarization === "none" ? glorotUniformBound(fanIn, fanOut) : l.opts.H;
      const w = new Float32Array(l.W.value.size);
      for (let i = 0; i < w.length; i++) w[i] = rng.uniform(-bound, bound);
      backend.upload(l.W.value, w);
    }
    return net;
  }

  get classes(): number {
    const last = this.weighted[this.weighted.length - 1];
    return last instanceof Dense ? last.opts.units : last.opts.filters;
  }
}

/**
 * Checks a network description as building it would (shapes, kernel and window sizes, random
 * slots, option values), on a backend that allocates nothing: an OptionError for a bad one.
 */
export function validateNetwork(config: NetworkConfig): void {
  checkNetworkFields(config);
  let id = 0;
  const shapesOnly: Backend = {
    name: "shapes",
    description: "shape checks only",
    alloc: (shape) => new Tensor("shapes", id++, shape),
    upload: () => {},
    read: async () => new Float32Array(0),
    dispose: () => {},
    run: () => {},
    close: async () => {},
  };
  buildLayers(shapesOnly, config, config.slotsPerStep ?? NETWORK_SLOTS_PER_STEP);
}

/** The largest example (values) a network takes: 2^26 (a 4096 x 4096 x 4 image). */
const MAX_INPUT_VALUES = 2 ** 26;

/**
 * The fields' types and ranges, before any layer is built: a configuration read from a file (a
 * model file, a checkpoint) may hold anything, and each field is checked before it is used.
 */
function checkNetworkFields(config: NetworkConfig): void {
  const fail = (what: string, found: unknown): never => {
    throw new OptionError(`network: ${what}, found ${JSON.stringify(found) ?? String(found)}`);
  };
  if (typeof config !== "object" || config === null) fail("expected an object", config);
  const { input, layers, batchNorm } = config;
  if (
    !Array.isArray(input) ||
    input.length < 1 ||
    input.length > 3 ||
    !input.every((d) => Number.isInteger(d) && d >= 1) ||
    input.reduce((a, d) => a * d, 1) > MAX_INPUT_VALUES
  )
    fail(`input must be [F] or [H, W, C] of positive integers, at most ${MAX_INPUT_VALUES} values`, input);
  if (!Array.isArray(layers) || layers.length < 1) fail("layers must be a non-empty list", layers);
  for (const [i, l] of layers.entries())
    if (typeof l !== "object" || l === null || typeof l.kind !== "string")
      fail(`layer ${i} must be an object with a kind`, l);
  if (typeof batchNorm !== "object" || batchNorm === null)
    fail("batchNorm must be { variant, eps, momentum }", batchNorm);
  checkBinarization(config.binarization, "network: binarization");
  checkBatchNormOptions(batchNorm, "network: batchNorm");
}

function fans(l: Conv2D | Dense): [number, number] {
  if (l instanceof Dense) return [l.opts.inputs, l.opts.units];
  const [kh, kw] = l.opts.kernel;
  return [kh * kw * l.opts.inChannels, kh * kw * l.opts.filters];
}

/** Hands out random-stream slots: pinned ones as asked, the others the lowest free one. */
function slotAllocator(slotsPerStep: number, layers: readonly LayerSpec[], fail: (why: string) => never) {
  const used = new Set<number>();
  for (const l of layers) {
    if ((l.kind === "dense" || l.kind === "conv" || l.kind === "dropout") && l.slot !== undefined) {
      if (!(Number.isInteger(l.slot) && l.slot >= 0 && l.slot < slotsPerStep))
        fail(`random slot ${l.slot} is outside 0..${slotsPerStep - 1}`);
      if (used.has(l.slot)) fail(`random slot ${l.slot} is used by two layers`);
      used.add(l.slot);
    }
  }
  let next = 0;
  return (pinned: number | undefined): number => {
    if (pinned !== undefined) return pinned;
    while (used.has(next)) next++;
    if (next >= slotsPerStep) fail(`more than ${slotsPerStep} layers with random streams`);
    used.add(next);
    return next;
  };
}

/** The hint of a layer whose window does not fit the image it gets (`after`: convolutions or poolings before it). */
const smallInputHint = (after: boolean) =>
  after
    ? "give a larger input, or fewer poolings (or strides) before this layer"
    : "give a larger input, or a smaller window";

/** The layers of `config`, following the shape of one example through them. */
function buildLayers(backend: Backend, config: NetworkConfig, slotsPerStep: number): Layer[] {
  const fail = (why: string, hint?: string): never => {
    throw new OptionError(`network: ${why}`, hint);
  };
  const layers: Layer[] = [];
  let shape = [...config.input];
  const inputText = ` (the network's input: [${shape}])`;
  if (shape.some((d) => !Number.isInteger(d) || d < 1))
    fail(`input dimensions must be integers >= 1, found [${shape}]`);
  if (shape.length === 3) layers.push(new Reshape("input", shape));
  else if (shape.length !== 1) fail(`input must be [H, W, C] or [features], found [${shape}]`);
  const count: Record<string, number> = {};
  const name = (kind: string) => `${kind}${(count[kind] = (count[kind] ?? -1) + 1)}`;
  const randomSlot = slotAllocator(slotsPerStep, config.layers, fail);
  let weighted = 0;
  const binary = (spec: { binarize?: Binarization; H?: number; clip?: boolean; lrScale?: "glorot" | number }) => {
    const H = spec.H ?? config.H;
    if (!(H > 0 && Number.isFinite(H))) fail(`H must be a positive number, found ${H}`);
    if (spec.lrScale !== undefined && spec.lrScale !== "glorot" && !(spec.lrScale > 0))
      fail(`lrScale must be "glorot" or a positive number, found ${spec.lrScale}`);
    return {
      binarization: checkBinarization(spec.binarize ?? config.binarization, "network: binarize"),
      H,
      clip: spec.clip ?? true,
      lrScale: spec.lrScale ?? "glorot",
    };
  };
  for (const spec of config.layers) {
    switch (spec.kind) {
      case "conv": {
        if (shape.length !== 3)
          fail(
            `a convolution needs images, but its input is [${shape}] (put convolutions before flatten/dense)`,
            "give an image input shape [height, width, channels], e.g. inputShape: [28, 28, 1]",
          );
        const conv = new Conv2D(backend, name("conv"), {
          inChannels: shape[2],
          filters: spec.filters,
          kernel: spec.kernel,
          stride: spec.stride,
          pad: spec.pad,
          ...binary(spec),
          bias: false,
          inputGrad: weighted++ > 0,
          randomSlot: randomSlot(spec.slot),
        });
        if (shape[0] + 2 * spec.pad[0] < spec.kernel[0] || shape[1] + 2 * spec.pad[1] < spec.kernel[1])
          fail(
            `${conv.name}: the kernel is larger than its padded ${shape[0]}x${shape[1]} input${inputText}`,
            smallInputHint(layers.length > 1),
          );
        shape = layerOutputShape(spec, shape);
        layers.push(conv);
        break;
      }
      case "maxpool": {
        if (shape.length !== 3) fail(`max pooling needs images, but its input is [${shape}]`);
        const pool = name("pool");
        if (shape[0] < spec.window[0] || shape[1] < spec.window[1])
          fail(
            `${pool}: the ${spec.window.join("x")} pooling window is larger than its ${shape[0]}x${shape[1]} input${inputText}`,
            smallInputHint(layers.length > 1),
          );
        layers.push(new MaxPool2D(backend, pool, spec.window, spec.stride));
        shape = layerOutputShape(spec, shape);
        break;
      }
      case "flatten":
        shape = layerOutputShape(spec, shape);
        layers.push(new Reshape(name("flatten"), shape));
        break;
      case "dense":
        if (shape.length !== 1)
          fail(`a dense layer needs feature vectors, but its input is [${shape}] (add a flatten)`);
        if (!(Number.isInteger(spec.units) && spec.units >= 1))
          fail(`dense units must be an integer >= 1, found ${spec.units}`);
        layers.push(
          new Dense(backend, name("dense"), {
            inputs: shape[0],
            units: spec.units,
            ...binary(spec),
            bias: false,
            inputGrad: weighted++ > 0,
            randomSlot: randomSlot(spec.slot),
          }),
        );
        shape = [spec.units];
        break;
      case "batchnorm": {
        const d = config.batchNorm;
        const opts = {
          variant: spec.variant ?? d.variant,
          eps: spec.eps ?? d.eps,
          momentum: spec.momentum ?? d.momentum,
        };
        const bn = name("bn");
        checkBatchNormOptions(opts, `network: ${bn}`);
        layers.push(new BatchNorm(backend, bn, shape[shape.length - 1], opts));
        break;
      }
      case "relu":
        layers.push(new Relu(backend, name("relu")));
        break;
      case "dropout":
        if (!(spec.p >= 0 && spec.p < 1)) fail(`dropout p must be in [0, 1), found ${spec.p}`);
        layers.push(new Dropout(backend, name("dropout"), spec.p, randomSlot(spec.slot)));
        break;
      default:
        unknownLayer(spec);
    }
  }
  if (shape.length !== 1 || !layers.some((l) => l instanceof Dense))
    fail(`the network must end in a dense layer (the classes); its output is [${shape}]`);
  return layers;
}
