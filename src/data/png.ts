/**
 * PNG and 8-bit rasters, browser-safe (no node: imports): any PNG (every colour type, bit depth
 * 1..16, palette, alpha) of any size decoded to 8-bit gray (1 channel) or RGB (3 channels), row-
 * major HWC. The conversion is the one `predict` applies to its PNG inputs (cli/inputs.ts
 * pngToPixels), so a model trained on an image folder sees its inputs the same way:
 * - alpha: composited over black (each sample multiplied by alpha);
 * - 1 channel from colour: luminance 0.299 R + 0.587 G + 0.114 B;
 * - 3 channels from gray: the gray value repeated;
 * - each value rounded to 0..255.
 */
import { convertIndexedToRgb, decode, hasPngSignature, type DecodedPng } from "fast-png";
import { DataFormatError } from "../core/errors.js";

/** An image as 8-bit samples, row-major HWC (`data.length` = height x width x channels). */
export interface Raster {
  readonly width: number;
  readonly height: number;
  readonly channels: 1 | 3;
  readonly data: Uint8Array;
}

export { hasPngSignature };

/** Luminance of normalized (0..1) R, G, B: ITU-R BT.601, as `predict` converts colour to gray. */
export function luminance(r: number, g: number, b: number): number {
  return 0.299 * r + 0.587 * g + 0.114 * b;
}

/**
 * Decodes a PNG to an 8-bit raster of `channels` channels (see the top of this file for the
 * conversion). A DataFormatError naming `source` when the bytes are not a readable PNG.
 */
export function decodePngRaster(bytes: Uint8Array, source: string, channels: 1 | 3): Raster {
  let png: DecodedPng;
  try {
    png = decode(bytes);
  } catch (e) {
    throw new DataFormatError(
      `${source}: expected a readable PNG, found an error decoding it (${errorText(e)})`,
      "the file is truncated or corrupt; re-export it as PNG or JPEG",
    );
  }
  return rasterOf(png, channels);
}

/** A decoded PNG as an 8-bit raster of `channels` channels (the conversion at the top of this file). */
export function rasterOf(png: DecodedPng, channels: 1 | 3): Raster {
  const { width, height } = png;
  const { values, channels: inChannels, max } = samples(png);
  const data = new Uint8Array(width * height * channels);
  for (let i = 0; i < width * height; i++) {
    const s = (c: number) => values(i * inChannels + c) / max;
    const alpha = inChannels === 2 || inChannels === 4 ? s(inChannels - 1) : 1;
    if (channels === 3) {
      for (let c = 0; c < 3; c++) data[3 * i + c] = Math.round(255 * (inChannels >= 3 ? s(c) : s(0)) * alpha);
    } else {
      data[i] = Math.round(255 * (inChannels >= 3 ? luminance(s(0), s(1), s(2)) : s(0)) * alpha);
    }
  }
  return { width, height, channels, data };
}

/** The message of a thrown value (decoders throw Errors, some libraries strings). */
export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
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
      const row = Math.floor(i / (png.width * channels)),
        col = i % (png.width * channels);
      const bit = col * depth;
      return (data[row * rowBytes + (bit >> 3)] >> (8 - depth - (bit & 7))) & ((1 << depth) - 1);
    },
  };
}
