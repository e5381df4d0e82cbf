import { CheckpointError, OptionError } from "../core/errors.js";
import type { PoolSpec } from "../format/bcnet.js";
import type { BatchNormState } from "../format/fold.js";
import { convOutputShape, imageSize, poolOutputShape, shapeText, type ImageShape } from "../format/shapes.js";
import { describeLayers, unknownLayer } from "../nn/architecture.js";
import type { Binarization } from "../nn/binarization.js";
import type { NetworkConfig } from "../nn/network.js";
import type { NamedArray } from "../train/checkpointFormat.js";

/** How a weighted layer was trained: binarized ("det" / "stoch", exported as H sign(W)) or real ("none"). */
export interface RunWeights {
  binarize: Binarization;
  H: number;
}

/** A dense layer of a trained run: latent weights W [inputs, units], its batch norm, ReLU or not. */
export interface RunDense extends RunWeights {
  kind: "dense";
  inputs: number;
  units: number;
  /** The latent (real) weights W [inputs, units]. */
  W: Float32Array;
  bn: BatchNormState;
  relu: boolean;
}

/** A convolution of a trained run (NHWC): W [kh, kw, Cin, Cout], max pooling before its batch norm or none. */
export interface RunConv extends RunWeights {
  kind: "conv";
  input: ImageShape;
  filters: number;
  kernel: [number, number];
  stride: [number, number];
  pad: [number, number];
  pool: PoolSpec | null;
  W: Float32Array;
  bn: BatchNormState;
  relu: boolean;
}

export interface RunMaxPool extends PoolSpec {
  kind: "maxpool";
  input: ImageShape;
}

/** One layer of a trained run as deployment sees it: the weights and the batch norm that follows, folded later. */
export type RunLayer = RunDense | RunConv | RunMaxPool;

type Open = (Omit<RunDense, "bn"> | Omit<RunConv, "bn">) & { bn: BatchNormState | null };

/**
 * The layers of a network (src/nn/network.ts; the paper's notation parses into the same layer
 * specs) with its trained tensors, named as src/nn/network.ts names them: conv{i}.W, dense{j}.W, bn{k}.gamma / beta /
 * runningMean / runningScale (counters per kind, in order). Groups each convolution or dense
 * layer with what follows it up to the next one: [max pooling,] batch norm[, ReLU] (the
 * authors' conv -> pool -> BN -> ReLU); another max pooling is a layer of its own; dropout is
 * the identity at test time. A layer without batch norm, or a ReLU before it, is refused
 * (nothing the parser writes).
 */
export function networkLayers(network: NetworkConfig, get: (name: string) => NamedArray, source: string): RunLayer[] {
  const layers: RunLayer[] = [];
  const input = network.input;
  const image: ImageShape | number =
    input.length === 3 ? { height: input[0], width: input[1], channels: input[2] } : input[0];
  const architecture = describeLayers(network.layers);
  const weightsOf = (spec: { binarize?: Binarization; H?: number }): RunWeights => ({
    binarize: spec.binarize ?? network.binarization,
    H: spec.H ?? network.H,
  });
  const bnOf = (name: string, spec: { variant?: BatchNormState["variant"]; eps?: number }): BatchNormState => ({
    variant: spec.variant ?? network.batchNorm.variant,
    eps: spec.eps ?? network.batchNorm.eps,
    gamma: get(`${name}.gamma`).data,
    beta: get(`${name}.beta`).data,
    runningMean: get(`${name}.runningMean`).data,
    runningScale: get(`${name}.runningScale`).data,
  });
  const count = { conv: 0, dense: 0, bn: 0 };
  let shape: ImageShape | number = image;
  let open: Open | null = null;
  const unsupported = (why: string): never => {
    throw new OptionError(
      `${source}: cannot export the network "${architecture}": ${why}`,
      "export supports convolution/dense layers each followed by [max pooling,] batch norm [and ReLU], as the paper's notation builds them",
    );
  };
  const close = () => {
    if (!open) return;
    if (!open.bn) unsupported(`${open.kind} layer without a batch norm after it`);
    layers.push(open as RunLayer);
    open = null;
  };
  const weights = (name: string, dims: number[]) => {
    const t = get(name);
    if (t.shape.join("x") !== dims.join("x"))
      throw new CheckpointError(
        `${source}: tensor "${name}" has shape [${t.shape}], the network expects [${dims}]`,
        "the file was written for another network",
      );
    return t.data;
  };
  for (const spec of network.layers) {
    switch (spec.kind) {
      case "conv": {
        close();
        if (typeof shape === "number") return unsupported("a convolution after a dense layer");
        const input: ImageShape = shape;
        const kernel = [...spec.kernel] as [number, number];
        const W = weights(`conv${count.conv++}.W`, [...kernel, input.channels, spec.filters]);
        open = {
          kind: "conv",
          input,
          filters: spec.filters,
          kernel,
          stride: [...spec.stride],
          pad: [...spec.pad],
          pool: null,
          W,
          bn: null,
          relu: false,
          ...weightsOf(spec),
        };
        shape = convOutputShape(input, spec.filters, spec.kernel, spec.stride, spec.pad);
        break;
      }
      case "maxpool": {
        if (typeof shape === "number") return unsupported("max pooling after a dense layer");
        const pool = { window: spec.window, stride: spec.stride };
        const o = open as Open | null;
        if (o?.kind === "conv" && !o.bn && !o.pool) o.pool = pool;
        else {
          close();
          layers.push({ kind: "maxpool", input: shape, ...pool });
        }
        shape = poolOutputShape(shape, spec.window, spec.stride);
        break;
      }
      case "flatten":
        if (typeof shape !== "number") shape = imageSize(shape);
        break;
      case "dense": {
        close();
        const inputs = typeof shape === "number" ? shape : imageSize(shape);
        open = {
          kind: "dense",
          inputs,
          units: spec.units,
          W: weights(`dense${count.dense++}.W`, [inputs, spec.units]),
          bn: null,
          relu: false,
          ...weightsOf(spec),
        };
        shape = spec.units;
        break;
      }
      case "batchnorm": {
        const o = open as Open | null;
        if (!o || o.bn || o.relu) return unsupported("a batch norm that does not follow a convolution or dense layer");
        o.bn = bnOf(`bn${count.bn++}`, spec);
        break;
      }
      case "relu": {
        const o = open as Open | null;
        if (!o?.bn || o.relu)
          return unsupported(
            `a ReLU that does not follow a batch norm (input ${typeof shape === "number" ? shape : shapeText(shape)})`,
          );
        o.relu = true;
        break;
      }
      case "dropout":
        break; // the identity at test time
      default:
        unknownLayer(spec);
    }
  }
  close();
  return layers;
}
