import { closeSync, fstatSync, openSync, readFileSync, statSync } from "node:fs";
import { basename } from "node:path";
import { decode as decodePng, hasPngSignature, type DecodedPng } from "fast-png";
import { rasterOf } from "../data/png.js";
import { DataFormatError } from "../core/errors.js";
import { OPEN_READ_NONBLOCK, parseIdx, requireRegularFile } from "../data/idx.js";
import { MNIST_COLS, MNIST_ROWS } from "../data/mnist.js";
import { shapeText, type ImageShape } from "../format/shapes.js";

/** Images for `predict`: raw pixels 0..255, row-major NHWC (MNIST: 28 x 28 x 1), and a name per image. */
export interface InputImages {
  pixels: Uint8Array;
  names: string[];
}

export const MNIST_IMAGE: ImageShape = { height: MNIST_ROWS, width: MNIST_COLS, channels: 1 };

const MNIST_HINT =
  "MNIST models take 28 x 28 grayscale images, a white digit on black (as in MNIST: the digit fitted in a 20 x 20 box, centred): resize it first";

function sideHint(image: ImageShape): string {
  return image.height === MNIST_ROWS && image.width === MNIST_COLS && image.channels === 1
    ? MNIST_HINT
    : `this model takes ${image.width} x ${image.height} images (width x height) with ${image.channels} channel(s): resize it first, or pass --resize`;
}

/**
 * Reads PNG files and IDX image files (unsigned bytes, plain or .gz) for a model on `image`
 * (default MNIST's 28 x 28 x 1), in the order given. PNG: any colour type and bit depth, of the
 * model's height and width, composited over black by its alpha; for one channel converted to
 * 8-bit gray by luminance 0.299 R + 0.587 G + 0.114 B, for three kept as RGB (a gray image
 * repeated in each). IDX: N x H x W or H x W (one channel), N x H x W x C or H x W x C.
 * Only regular files are read (a FIFO or a device is a DataFormatError, not a hang); a PNG's
 * size is checked before it is decoded, gzipped IDX data is decompressed no further than its
 * header declares.
 */
export function readInputImages(paths: string[], image: ImageShape = MNIST_IMAGE): InputImages {
  const parts: Uint8Array[] = [];
  const names: string[] = [];
  for (const path of paths) {
    const bytes = readRegularFile(path, "pass PNG images or MNIST IDX image files");
    if (hasPngSignature(bytes)) {
      parts.push(pngToPixels(bytes, path, image));
      names.push(basename(path));
      continue;
    }
    if (bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff)
      throw new DataFormatError(
        `${path}: a JPEG image`,
        "pass --resize to decode JPEG images (converted to the model's size)",
      );
    const idx = parseIdx(bytes, path);
    const d = idx.dims,
      { height, width, channels } = image;
    const one = channels === 1 ? [height, width] : [height, width, channels];
    const matches =
      (d.length === one.length || d.length === one.length + 1) && d.slice(-one.length).every((v, i) => v === one[i]);
    if (!matches) {
      const want =
        channels === 1
          ? `N x ${height} x ${width} (or ${height} x ${width})`
          : `N x ${height} x ${width} x ${channels} (or ${height} x ${width} x ${channels})`;
      throw new DataFormatError(
        `${path}: expected IDX images of shape ${want}, found ${d.join(" x ")}`,
        "pass an images file such as t10k-images-idx3-ubyte, not a labels file",
      );
    }
    const n = d.length > one.length ? d[0] : 1;
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

/** The bytes of a regular file (checked before it is opened and again once open: reading a FIFO would wait for a writer). */
export function readRegularFile(path: string, hint: string): Uint8Array {
  let fd: number;
  try {
    requireRegularFile(path, statSync(path), hint);
    fd = openSync(path, OPEN_READ_NONBLOCK);
  } catch (e) {
    if (e instanceof DataFormatError) throw e;
    throw new DataFormatError(`cannot read ${path}: ${(e as Error).message}`, hint);
  }
  try {
    requireRegularFile(path, fstatSync(fd), hint);
    return new Uint8Array(readFileSync(fd));
  } catch (e) {
    if (e instanceof DataFormatError) throw e;
    throw new DataFormatError(`cannot read ${path}: ${(e as Error).message}`, hint);
  } finally {
    closeSync(fd);
  }
}

/** A PNG of the image's height and width as 8-bit samples: gray (1 channel) or RGB (3), NHWC. */
export function pngToPixels(bytes: Uint8Array, source: string, image: ImageShape): Uint8Array {
  if (image.channels !== 1 && image.channels !== 3) {
    throw new DataFormatError(
      `${source}: this model takes ${shapeText(image)} images; PNG inputs need 1 (gray) or 3 (RGB) channels`,
      "pass the images as an IDX file (N x H x W x C, unsigned bytes)",
    );
  }
  // The size from the IHDR chunk (bytes 16..23, right after the signature and the chunk's length and type) before decoding anything.
  if (bytes.length >= 24 && String.fromCharCode(...bytes.subarray(12, 16)) === "IHDR") {
    const view = new DataView(bytes.buffer, bytes.byteOffset, 24);
    const width = view.getUint32(16, false),
      height = view.getUint32(20, false);
    if (width !== image.width || height !== image.height)
      throw new DataFormatError(
        `${source}: expected an image of ${image.width} x ${image.height}, found ${width} x ${height}`,
        sideHint(image),
      );
  }
  let png: DecodedPng;
  try {
    png = decodePng(bytes);
  } catch (e) {
    throw new DataFormatError(`${source}: not a readable PNG (${(e as Error).message})`);
  }
  const { width, height } = png;
  if (width !== image.width || height !== image.height)
    throw new DataFormatError(
      `${source}: expected an image of ${image.width} x ${image.height}, found ${width} x ${height}`,
      sideHint(image),
    );
  return rasterOf(png, image.channels).data;
}
