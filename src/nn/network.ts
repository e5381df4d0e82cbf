import type { Backend } from "../backends/backend.js";
import { OptionError } from "../core/errors.js";
import { Xoshiro128 } from "../core/rng.js";
import type { BatchNormVariant } from "../kernels/contract.js";
import { ADAM_DEFAULTS, type AdamOptions } from "../optim/adam.js";
import { layerOutputShape, type LayerSpec } from "./architecture.js";
import { BatchNorm } from "./batchNorm.js";
import type { Binarization } from "./binarization.js";
import { Conv2D } from "./conv2d.js";
import { Dense } from "./dense.js";
import { Dropout } from "./dropout.js";
import type { Layer } from "./layer.js";
import { MaxPool2D } from "./maxPool.js";
import { glorotUniformBound } from "./param.js";
import { Relu } from "./relu.js";
import { Reshape } from "./reshape.js";
import { Sequential } from "./sequential.js";

/** A network described layer by layer (the CNNs of the paper: architecture.ts parses their notation). */
export interface NetworkConfig {
  /** One example: [H, W, C] (an NHWC image, stored as H W C features) or [F] (a feature vector). */
  input: number[];
  /** The layers in order; the last dense layer's units are the classes. */
  layers: LayerSpec[];
  binarization: Binarization;
  /** Binary weight magnitude (1 in the authors' code). */
  H: number;
  batchNorm: { variant: BatchNormVariant; eps: number; momentum: number };
  adam?: AdamOptions;
}

/** Random-stream slots per step: binarized layers take 0, 1, ... in order, then dropouts. */
export const NETWORK_SLOTS_PER_STEP = 32;

/**
 * A BinaryConnect network of any sequence of convolutions, max pooling, dense layers, batch
 * norm (over channels: the last axis), ReLU and dropout. Every convolution and dense layer is
 * binarized per `binarization` (the first and the last included, as the authors); biases are
 * absent (batch norm follows). Input rows of H W C features are seen as NHWC images.
 */
export class Network extends Sequential {
  /** The binarizable layers (conv and dense), in order. */
  readonly weighted: (Conv2D | Dense)[];

  private constructor(backend: Backend, readonly config: NetworkConfig, seed: number) {
    super(backend, buildLayers(backend, config), seed, NETWORK_SLOTS_PER_STEP, config.adam ?? ADAM_DEFAULTS);
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
      const bound = config.binarization === "none" ? glorotUniformBound(fanIn, fanOut) : config.H;
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

function fans(l: Conv2D | Dense): [number, number] {
  if (l instanceof Dense) return [l.opts.inputs, l.opts.units];
  const [kh, kw] = l.opts.kernel;
  return [kh * kw * l.opts.inChannels, kh * kw * l.opts.filters];
}

/** The layers of `config`, following the shape of one example through them. */
function buildLayers(backend: Backend, config: NetworkConfig): Layer[] {
  const fail = (why: string): never => {
    throw new OptionError(`network: ${why}`);
  };
  const layers: Layer[] = [];
  let shape = [...config.input];
  if (shape.length === 3) layers.push(new Reshape("input", shape));
  else if (shape.length !== 1) fail(`input must be [H, W, C] or [features], found [${shape}]`);
  const count: Record<string, number> = {};
  const name = (kind: string) => `${kind}${(count[kind] = (count[kind] ?? -1) + 1)}`;
  let slot = 0, weighted = 0;
  const { binarization, H } = config;
  const randomSlot = () => (slot < NETWORK_SLOTS_PER_STEP ? slot++ : fail(`more than ${NETWORK_SLOTS_PER_STEP} layers with random streams`));
  for (const spec of config.layers) {
    switch (spec.kind) {
      case "conv": {
        if (shape.length !== 3) fail(`a convolution needs images, but its input is [${shape}] (put convolutions before flatten/dense)`);
        const conv = new Conv2D(backend, name("conv"), {
          inChannels: shape[2], filters: spec.filters, kernel: spec.kernel, stride: spec.stride, pad: spec.pad,
          binarization, H, bias: false, inputGrad: weighted++ > 0, randomSlot: randomSlot(),
        });
        if (shape[0] + 2 * spec.pad[0] < spec.kernel[0] || shape[1] + 2 * spec.pad[1] < spec.kernel[1]) fail(`${conv.name}: the kernel is larger than its padded ${shape[0]}x${shape[1]} input`);
        shape = layerOutputShape(spec, shape);
        layers.push(conv);
        break;
      }
      case "maxpool": {
        if (shape.length !== 3) fail(`max pooling needs images, but its input is [${shape}]`);
        if (shape[0] < spec.window[0] || shape[1] < spec.window[1]) fail(`the ${spec.window} pooling window is larger than its ${shape[0]}x${shape[1]} input`);
        layers.push(new MaxPool2D(backend, name("pool"), spec.window, spec.stride));
        shape = layerOutputShape(spec, shape);
        break;
      }
      case "flatten":
        shape = layerOutputShape(spec, shape);
        layers.push(new Reshape(name("flatten"), shape));
        break;
      case "dense":
        if (shape.length !== 1) fail(`a dense layer needs feature vectors, but its input is [${shape}] (add a flatten)`);
        layers.push(new Dense(backend, name("dense"), {
          inputs: shape[0], units: spec.units, binarization, H, bias: false, inputGrad: weighted++ > 0, randomSlot: randomSlot(),
        }));
        shape = [spec.units];
        break;
      case "batchnorm":
        layers.push(new BatchNorm(backend, name("bn"), shape[shape.length - 1], config.batchNorm));
        break;
      case "relu":
        layers.push(new Relu(backend, name("relu")));
        break;
      case "dropout":
        if (!(spec.p >= 0 && spec.p < 1)) fail(`dropout p must be in [0, 1), found ${spec.p}`);
        layers.push(new Dropout(backend, name("dropout"), spec.p, randomSlot()));
        break;
    }
  }
  if (shape.length !== 1 || !layers.some((l) => l instanceof Dense)) fail(`the network must end in a dense layer (the classes); its output is [${shape}]`);
  return layers;
}
