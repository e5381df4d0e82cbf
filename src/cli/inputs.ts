import { readFileSync } from "node:fs";
import { basename } from "node:path";
import { convertIndexedToRgb, decode as decodePng, hasPngSignature, type DecodedPng } from "fast-png";
import { DataFormatError } from "../core/errors.js";
import { parseIdx } from "../data/idx.js";
import { MNIST_COLS, MNIST_ROWS } from "../data/mnist.js";

/** Images for `predict`: raw pixels 0..255, row-major 28 x 28, and a name per image. */
export interface InputImages {
  pixels: Uint8Array;
  names: string[];
}

const SIDE_HINT = "MNIST models take 28 x 28 grayscale images, a white digit on black (as in MNIST: the digit fitted in a 20 x 20 box, centred): resize it first";

/**
 * Reads PNG files (any colour type and bit depth; converted to 8-bit gray: luminance
 * 0.299 R + 0.587 G + 0.114 B, composited over black by its alpha) and IDX image files
 * (N x 28 x 28 or 28 x 28, plain or .gz), in the order given.
 */
export function readInputImages(paths: string[]): InputImages {
  const parts: Uint8Array[] = [];
  const names: string[] = [];
  for (const path of paths) {
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(readFileSync(path));
    } catch (e) {
      throw new DataFormatError(`cannot read ${path}: ${(e as Error).message}`, "pass PNG images or MNIST IDX image files");
    }
    if (hasPngSignature(bytes)) {
      parts.push(pngToGray(bytes, path));
      names.push(basename(path));
      continue;
    }
    const idx = parseIdx(bytes, path);
    const d = idx.dims;
    const n = d.length === 3 ? d[0] : 1;
    if (!((d.length === 3 || d.length === 2) && d.at(-2) === MNIST_ROWS && d.at(-1) === MNIST_COLS)) {
      throw new DataFormatError(`${path}: expected IDX images of shape N x 28 x 28 (or 28 x 28), found ${d.join(" x ")}`, "pass an images file such as t10k-images-idx3-ubyte, not a labels file");
    }
    parts.push(idx.data);
    for (let i = 0; i < n; i++) names.push(`${basename(path)}[${i}]`);
  }
  const pixels = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    pixels.set(p, at);
    at += p.length;
  }
  return { pixels, names };
}

/** A PNG as 28 x 28 8-bit gray. */
export function pngToGray(bytes: Uint8Array, source: string): Uint8Array {
  let png: DecodedPng;
  try {
    png = decodePng(bytes);
  } catch (e) {
    throw new DataFormatError(`${source}: not a readable PNG (${(e as Error).message})`);
  }
  const { width, height } = png;
  if (width !== MNIST_COLS || height !== MNIST_ROWS) throw new DataFormatError(`${source}: expected a 28 x 28 image, found ${width} x ${height}`, SIDE_HINT);
  const { values, channels, max } = samples(png);
  const gray = new Uint8Array(width * height);
  for (let i = 0; i < gray.length; i++) {
    const s = (c: number) => values(i * channels + c) / max;
    const lum = channels >= 3 ? 0.299 * s(0) + 0.587 * s(1) + 0.114 * s(2) : s(0);
    const alpha = channels === 2 || channels === 4 ? s(channels - 1) : 1;
    gray[i] = Math.round(255 * lum * alpha);
  }
  return gray;
}

/** The image's samples as numbers, channels per pixel and the largest sample value. */
function samples(png: DecodedPng): { values: (i: number) => number; channels: number; max: number } {
  const pixels = png.width * png.height;
  if (png.palette) {
    const rgb = convertIndexedToRgb(png);
    return { values: (i) => rgb[i], channels: rgb.length / pixels, max: 255 };
  }
  const { data, depth, channels } = png;
  if (depth >= 8) return { values: (i) => data[i], channels, max: depth === 16 ? 65535 : 255 };
  // Gray at 1, 2 or 4 bits: rows are packed, each starting on a byte.
  const rowBytes = Math.ceil((png.width * channels * depth) / 8);
  return {
    channels,
    max: (1 << depth) - 1,
    values: (i) => {
      const row = Math.floor(i / (png.width * channels)), col = i % (png.width * channels);
      const bit = col * depth;
      return (data[row * rowBytes + (bit >> 3)] >> (8 - depth - (bit & 7))) & ((1 << depth) - 1);
    },
  };
}
