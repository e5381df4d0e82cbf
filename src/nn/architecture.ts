import { OptionError } from "../core/errors.js";
import { convOutputSize, type BatchNormVariant, type Pair } from "../kernels/contract.js";
import type { Binarization } from "./binarization.js";

/**
 * How one convolution or dense layer takes part in BinaryConnect (paper sections 2.3-2.4); each
 * field left out takes the network's default (NetworkConfig):
 * - binarize: "det" (Wb = H sign(W)), "stoch" (Wb = +H with probability hard_sigmoid(W / H)) or
 *   "none" (real weights: the layer is an ordinary float layer);
 * - H: the binary weights' magnitude;
 * - clip: clip the real weights to [-H, H] after each update (the authors' code: true);
 * - lrScale: the factor on the layer's Adam step: "glorot" = 1 / sqrt(1.5 / (fanIn + fanOut))
 *   (the authors' W_LR_scale), or a number (1: none).
 * A real-valued layer (binarize "none") has no clip and no scale.
 */
export interface BinaryOptions {
  binarize?: Binarization;
  H?: number;
  clip?: boolean;
  lrScale?: "glorot" | number;
  /**
   * The slot of the layer's random stream within a step (stochastic binarization, dropout);
   * default: the next free one in layer order. Runs of earlier versions pin theirs.
   */
  slot?: number;
}

/** Batch norm's settings (the network's default for each field left out). */
export interface BatchNormSpecOptions {
  /** "authors": eps added to the std, EMA of the std (the paper's code); "standard": Ioffe & Szegedy's. */
  variant?: BatchNormVariant;
  eps?: number;
  /** EMA factor of the running statistics (the authors': 0.15 MNIST, 0.1 the CNNs). */
  momentum?: number;
}

/** One layer of a network description (src/nn/network.ts builds them in order). Plain data: JSON round-trips it. */
export type LayerSpec =
  | ({ kind: "conv"; filters: number; kernel: Pair; stride: Pair; pad: Pair } & BinaryOptions)
  | { kind: "maxpool"; window: Pair; stride: Pair }
  | ({ kind: "dense"; units: number } & BinaryOptions)
  | ({ kind: "batchnorm" } & BatchNormSpecOptions)
  | { kind: "relu" }
  | { kind: "dropout"; p: number; slot?: number }
  | { kind: "flatten" };

export type LayerKind = LayerSpec["kind"];

/** Fails at compile time when a switch over layer kinds misses one. */
export function unknownLayer(layer: never): never {
  throw new OptionError(
    `unknown layer kind ${JSON.stringify((layer as { kind?: unknown }).kind)}`,
    "expected conv, maxpool, dense, batchnorm, relu, dropout or flatten",
  );
}

/**
 * The paper's notation for a network (section 3), e.g. the CIFAR-10 CNN
 *   "(2x128C3)-MP2-(2x256C3)-MP2-(2x512C3)-MP2-(2x1024FC)-10"
 * parsed into layers as the authors' code builds them:
 * - "128C3": a 3x3 convolution with 128 filters, stride 1, padding 1 ("same": k/2 rounded down);
 * - "MP2": 2x2 max pooling, stride 2 - placed right after the preceding convolution, before
 *   its batch norm and ReLU (conv -> pool -> BN -> ReLU, as in the Lasagne code);
 * - "1024FC": a dense layer of 1024 units (a flatten comes first after convolutions);
 * - the last token, a bare number: the output dense layer (the classes), with batch norm and
 *   no nonlinearity;
 * - "(2xT)" or "2xT": T twice.
 * Every other convolution and dense layer is followed by batch norm and ReLU.
 */
export function parseArchitecture(text: string): LayerSpec[] {
  const items = expand(text);
  if (items.length === 0 || items[items.length - 1].kind !== "out") {
    throw archError(text, "the last part must be the number of classes (e.g. ...-10)");
  }
  const layers: LayerSpec[] = [];
  let image = true; // convolutions come before any dense layer
  for (let i = 0; i < items.length; i++) {
    const item = items[i];
    switch (item.kind) {
      case "conv": {
        if (!image) throw archError(text, `a convolution (${item.token}) cannot follow a dense layer`);
        const k = item.size;
        layers.push({
          kind: "conv",
          filters: item.n,
          kernel: [k, k],
          stride: [1, 1],
          pad: [Math.floor(k / 2), Math.floor(k / 2)],
        });
        const next = items[i + 1];
        if (next?.kind === "pool") {
          layers.push(pool(next.size));
          i++;
        }
        layers.push({ kind: "batchnorm" }, { kind: "relu" });
        break;
      }
      case "pool":
        if (!image) throw archError(text, `max pooling (${item.token}) cannot follow a dense layer`);
        layers.push(pool(item.size));
        break;
      case "fc":
      case "out":
        if (image) layers.push({ kind: "flatten" });
        image = false;
        layers.push({ kind: "dense", units: item.n }, { kind: "batchnorm" });
        if (item.kind === "fc") layers.push({ kind: "relu" });
        else if (i !== items.length - 1)
          throw archError(text, `a bare number (${item.token}) is the output layer: it must come last`);
        break;
    }
  }
  return layers;
}

/** The shape after `layer` on an input of `shape` ([H, W, C] for images, [features] after a flatten); batch norm, ReLU and dropout keep it. */
export function layerOutputShape(layer: LayerSpec, shape: readonly number[]): number[] {
  switch (layer.kind) {
    case "conv":
      return [
        convOutputSize(shape[0], layer.kernel[0], layer.stride[0], layer.pad[0]),
        convOutputSize(shape[1], layer.kernel[1], layer.stride[1], layer.pad[1]),
        layer.filters,
      ];
    case "maxpool":
      return [
        convOutputSize(shape[0], layer.window[0], layer.stride[0], 0),
        convOutputSize(shape[1], layer.window[1], layer.stride[1], 0),
        shape[2],
      ];
    case "flatten":
      return [shape.reduce((a, b) => a * b, 1)];
    case "dense":
      return [layer.units];
    case "batchnorm":
    case "relu":
    case "dropout":
      return [...shape];
    default:
      return unknownLayer(layer);
  }
}

/**
 * The widths of a network of dense layers only ("(3x4096FC)-10" parses to flatten, then dense,
 * batch norm and ReLU per hidden layer, then the output's dense and batch norm): every dense
 * layer's units in order, the classes last. null when the layers hold anything else (a
 * convolution, a pooling, a dropout).
 */
export function denseWidths(layers: readonly LayerSpec[]): number[] | null {
  const widths: number[] = [];
  for (const l of layers) {
    if (l.kind === "dense") widths.push(l.units);
    else if (l.kind !== "flatten" && l.kind !== "batchnorm" && l.kind !== "relu") return null;
  }
  return widths.length > 0 ? widths : null;
}

/** A compact description of layers ("conv 3x3x128 pad 1 - maxpool 2x2 - bn - relu - ..."). */
export function describeLayers(layers: readonly LayerSpec[]): string {
  return layers
    .map((l) => {
      switch (l.kind) {
        case "conv":
          return `conv ${l.kernel[0]}x${l.kernel[1]}x${l.filters}${l.stride[0] > 1 || l.stride[1] > 1 ? ` stride ${l.stride}` : ""} pad ${l.pad}`;
        case "maxpool":
          return `maxpool ${l.window[0]}x${l.window[1]}`;
        case "dense":
          return `dense ${l.units}`;
        case "batchnorm":
          return "bn";
        case "relu":
          return "relu";
        case "dropout":
          return `dropout ${l.p}`;
        case "flatten":
          return "flatten";
        default:
          return unknownLayer(l);
      }
    })
    .join(" - ");
}

type Item =
  | { kind: "conv"; n: number; size: number; token: string }
  | { kind: "pool"; size: number; token: string }
  | { kind: "fc"; n: number; token: string }
  | { kind: "out"; n: number; token: string };

function pool(size: number): LayerSpec {
  return { kind: "maxpool", window: [size, size], stride: [size, size] };
}

/** The parts of the notation, repetitions expanded. */
function expand(text: string): Item[] {
  const items: Item[] = [];
  for (const raw of text.split("-")) {
    const token = raw.trim();
    const rep = /^\(?(\d+)x(.+?)\)?$/.exec(token);
    const count = rep ? Number(rep[1]) : 1;
    const unit = rep ? rep[2] : token;
    let item: Item;
    let m: RegExpExecArray | null;
    if ((m = /^(\d+)C(\d+)$/.exec(unit))) item = { kind: "conv", n: Number(m[1]), size: Number(m[2]), token };
    else if ((m = /^MP(\d+)$/.exec(unit))) item = { kind: "pool", size: Number(m[1]), token };
    else if ((m = /^(\d+)FC$/.exec(unit))) item = { kind: "fc", n: Number(m[1]), token };
    else if ((m = /^(\d+)$/.exec(unit)) && !rep) item = { kind: "out", n: Number(m[1]), token };
    else
      throw archError(
        text,
        `cannot read "${token}": expected NCK (a KxK convolution with N filters, e.g. 128C3), MPk, NFC, (RxPART), or the number of classes last`,
      );
    if (("n" in item && item.n < 1) || ("size" in item && item.size < 1) || count < 1)
      throw archError(text, `"${token}": sizes must be >= 1`);
    for (let r = 0; r < count; r++) items.push(item);
  }
  return items;
}

function archError(text: string, why: string): OptionError {
  return new OptionError(
    `architecture "${text}": ${why}`,
    'the paper\'s CIFAR-10 network reads "(2x128C3)-MP2-(2x256C3)-MP2-(2x512C3)-MP2-(2x1024FC)-10"',
  );
}
