import { basename } from "node:path";
import { encode } from "fast-png";
import type { TopLevelSpec } from "vega-lite";
import { ShapeError } from "../core/errors.js";
import type { NamedArray } from "../train/checkpoint.js";
import { DATASET_IMAGE, type DatasetName } from "../train/config.js";
import { DATASET_TITLES } from "./curves.js";
import type { FirstLayer } from "./firstLayer.js";
import { PNG_SCALE } from "./render.js";

/** The first layer's filters seen as images: `count` tiles of h x w pixels with c channels. */
export interface TileSource {
  count: number;
  h: number;
  w: number;
  /** 1 (grayscale) or 3 (RGB). */
  c: number;
  /** Weight of tile t at pixel (y, x), channel ch. */
  value(t: number, y: number, x: number, ch: number): number;
}

/**
 * The tiles of a first layer:
 *   dense W [inputs, units], inputs = H*W*C of the dataset's image (NHWC rows): unit u's tile
 *     pixel (y, x, ch) = W[(y*W + x)*C + ch, u]  (an MNIST unit: a 28x28 grayscale tile);
 *   conv W [kh, kw, Cin, Cout]: filter o's tile pixel (y, x, ch) = W[y, x, ch, o] (Cin 3: RGB).
 */
export function tilesOf(weights: NamedArray, dataset: DatasetName): TileSource {
  const { shape, data, name } = weights;
  if (shape.length === 2) {
    const [inputs, units] = shape;
    const [h, w, c] = DATASET_IMAGE[dataset];
    if (inputs !== h * w * c)
      throw new ShapeError(
        `${name} [${shape}]: ${inputs} inputs, but a ${dataset} image has ${h}x${w}x${c} = ${h * w * c} pixels`,
      );
    return { count: units, h, w, c, value: (t, y, x, ch) => data[((y * w + x) * c + ch) * units + t] };
  }
  if (shape.length === 4) {
    const [kh, kw, cin, cout] = shape;
    if (cin !== 1 && cin !== 3)
      throw new ShapeError(
        `${name} [${shape}]: a first-layer filter has 1 or 3 input channels to show as an image, found ${cin}`,
      );
    return { count: cout, h: kh, w: kw, c: cin, value: (t, y, x, ch) => data[((y * kw + x) * cin + ch) * cout + t] };
  }
  throw new ShapeError(
    `${name} [${shape}]: expected a dense [inputs, units] or convolution [kh, kw, Cin, Cout] weight`,
  );
}

/** A grid of tiles as RGBA pixels. */
export interface Mosaic {
  rgba: Uint8Array;
  width: number;
  height: number;
  rows: number;
  cols: number;
  /** Tiles drawn (the first `tiles` units or filters). */
  tiles: number;
  /** Each tile pixel is drawn as scale x scale pixels. */
  scale: number;
  gap: number;
}

export interface MosaicOptions {
  /** At most this many tiles (default 100: a 10x10 grid). */
  maxTiles?: number;
  /** Tile pixels are enlarged by an integer factor until the mosaic is about this wide (pixels). */
  targetWidth?: number;
  /** White pixels between tiles (default: one tile pixel, between 2 and 8 pixels). */
  gap?: number;
}

/**
 * The first tiles of a layer in a grid of ceil(sqrt(n)) columns (at most 10), each tile
 * min-max normalised on its own (its smallest weight black, its largest white; jointly over
 * the channels of an RGB tile), separated by white gaps (one enlarged tile pixel, kept within 2 to 8 pixels).
 */
export function featureMosaic(src: TileSource, options: MosaicOptions = {}): Mosaic {
  const { maxTiles = 100, targetWidth = 840 } = options;
  const tiles = Math.min(maxTiles, src.count);
  const cols = Math.min(10, Math.ceil(Math.sqrt(tiles)));
  const rows = Math.ceil(tiles / cols);
  const scale = Math.max(1, Math.round(targetWidth / (cols * src.w)));
  const gap = options.gap ?? Math.min(8, Math.max(2, scale));
  const tw = src.w * scale,
    th = src.h * scale;
  const width = cols * tw + (cols - 1) * gap,
    height = rows * th + (rows - 1) * gap;
  const rgba = new Uint8Array(width * height * 4).fill(255);
  for (let t = 0; t < tiles; t++) {
    let lo = Infinity,
      hi = -Infinity;
    for (let y = 0; y < src.h; y++)
      for (let x = 0; x < src.w; x++)
        for (let ch = 0; ch < src.c; ch++) {
          const v = src.value(t, y, x, ch);
          lo = Math.min(lo, v);
          hi = Math.max(hi, v);
        }
    const range = hi > lo ? hi - lo : 1;
    const left = (t % cols) * (tw + gap),
      top = Math.floor(t / cols) * (th + gap);
    for (let y = 0; y < th; y++)
      for (let x = 0; x < tw; x++) {
        const o = ((top + y) * width + left + x) * 4;
        for (let k = 0; k < 3; k++) {
          const v = src.value(t, Math.floor(y / scale), Math.floor(x / scale), src.c === 3 ? k : 0);
          rgba[o + k] = Math.round((255 * (v - lo)) / range);
        }
      }
  }
  return { rgba, width, height, rows, cols, tiles, scale, gap };
}

/** The mosaic as PNG bytes. */
export function mosaicPng(m: Mosaic): Uint8Array {
  return encode({ width: m.width, height: m.height, data: m.rgba, channels: 4, depth: 8 });
}

/**
 * Paper Fig. 1: the first layer's features of one method, the mosaic embedded as a PNG data
 * URL in a Vega-Lite image mark under a title naming the method and the dataset. The image is
 * sized so the figure's PNG (at PNG_SCALE) shows it pixel for pixel.
 */
export function featuresSpec(label: string, dataset: DatasetName, layer: FirstLayer, mosaic: Mosaic): TopLevelSpec {
  const width = mosaic.width / PNG_SCALE,
    height = mosaic.height / PNG_SCALE;
  const url = `data:image/png;base64,${Buffer.from(mosaicPng(mosaic)).toString("base64")}`;
  const { name, shape } = layer.weights;
  const what = shape.length === 2 ? "units" : "filters";
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: {
      text: `First-layer features: ${label}, ${DATASET_TITLES[dataset] ?? dataset}`,
      subtitle: [
        `${name} [${shape.join("x")}], ${basename(layer.source)} (epoch ${layer.epoch}): the first ${mosaic.tiles} of ${shape[shape.length - 1]} ${what}`,
        "each tile min-max normalised (black: its smallest weight, white: its largest)",
      ],
    },
    width,
    height,
    data: { values: [{ url }] },
    mark: { type: "image", width, height, align: "left", baseline: "top", aspect: false, smooth: false, aria: false },
    encoding: { url: { field: "url", type: "nominal" }, x: { value: 0 }, y: { value: 0 } },
    config: { view: { stroke: null } },
  } as TopLevelSpec;
}
