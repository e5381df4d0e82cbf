/**
 * Image files to examples, browser-safe (no node: imports; the folder walking is in
 * imageFolder.ts): PNG (fast-png) and JPEG (jpeg-js), recognized by their signature, converted
 * to 1 channel (luminance) or 3 (RGB) as png.ts describes, resized to H x W by bilinear
 * interpolation, and written as raw values 0..255 in float32, row-major HWC (NHWC for a set).
 *
 * Resizing (when the file is not H x W already): bilinear with half-pixel centres (OpenCV's
 * INTER_LINEAR, TensorFlow's half_pixel_centers): output pixel (y, x) samples the input at
 *   sy = (y + 0.5) * inH / H - 0.5,  sx = (x + 0.5) * inW / W - 0.5   (clamped to the image)
 * and mixes the 4 neighbours by their distances. Values are not rounded after resizing. There
 * is no antialiasing: shrinking by more than 2x skips pixels, so resize large photos first.
 */
import { decode as decodeJpeg } from "jpeg-js";
import { DataFormatError, OptionError, ShapeError } from "../core/errors.js";
import { fromArrays, type Dataset } from "./dataset.js";
import { decodePngRaster, errorText, hasPngSignature, luminance, type Raster } from "./png.js";

/** The shape of one image example: [height, width, channels], channels 1 (gray) or 3 (RGB). */
export type ImageExampleShape = readonly [height: number, width: number, channels: number];

/** An image file given by name and contents (in a browser: a File's name and `new Uint8Array(await file.arrayBuffer())`). */
export interface ImageFile {
  /** Names the file in errors and orders the files of a class. */
  readonly name: string;
  readonly bytes: Uint8Array;
  /** The class the image belongs to (for a folder: the name of its sub-folder). */
  readonly className: string;
}

export interface ImageDatasetOptions {
  /** [H, W, C] of every example: each image is converted to C channels and resized to H x W. */
  shape: ImageExampleShape;
  /** The classes in label order (default: the class names found, sorted). */
  classes?: readonly string[];
  /** At most this many images of each class (the first by name). Default: all. */
  limit?: number;
}

const IMAGE_EXTENSIONS = [".png", ".jpg", ".jpeg"];

/** True when the file name ends in .png, .jpg or .jpeg (any case): the files an image folder reads. */
export function isImageFileName(name: string): boolean {
  const lower = name.toLowerCase();
  return IMAGE_EXTENSIONS.some((e) => lower.endsWith(e));
}

/** Throws an OptionError unless `shape` is [H, W, C] of positive integers with C = 1 or 3. */
export function checkImageShape(shape: readonly number[], where: string): void {
  if (!Array.isArray(shape) || shape.length !== 3 || shape.some((d) => !Number.isInteger(d) || d < 1)) {
    throw new OptionError(
      `${where}: expected shape [height, width, channels] of positive integers, found ${JSON.stringify(shape)}`,
      "e.g. { shape: [32, 32, 3] }",
    );
  }
  if (shape[2] !== 1 && shape[2] !== 3) {
    throw new OptionError(
      `${where}: expected 1 (gray) or 3 (RGB) channels, found ${shape[2]}`,
      "images are converted to gray by luminance or kept as RGB",
    );
  }
}

/** Throws an OptionError unless `limit` is absent or an integer >= 1. */
export function checkLimit(limit: number | undefined, where: string): void {
  if (limit !== undefined && !(Number.isInteger(limit) && limit >= 1)) {
    throw new OptionError(`${where}: expected limit to be an integer >= 1 (images per class), found ${limit}`);
  }
}

/**
 * Decodes a PNG or JPEG (told apart by their signatures, not the name) to an 8-bit raster of
 * `channels` channels. A DataFormatError naming the file when it is neither or does not decode.
 */
export function decodeRaster(name: string, bytes: Uint8Array, channels: 1 | 3): Raster {
  if (hasPngSignature(bytes)) return decodePngRaster(bytes, name, channels);
  if (!(bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff)) {
    const head = Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, "0")).join(" ");
    throw new DataFormatError(
      `${name}: expected a PNG or JPEG image, found ${bytes.length} bytes starting ${head || "(empty file)"}`,
      "convert the image to PNG or JPEG, or remove it from the folder",
    );
  }
  let rgb: { width: number; height: number; data: Uint8Array };
  try {
    rgb = decodeJpeg(bytes, { useTArray: true, formatAsRGBA: false });
  } catch (e) {
    throw new DataFormatError(
      `${name}: expected a readable JPEG, found an error decoding it (${errorText(e)})`,
      "the file is truncated or corrupt; re-export it as PNG or JPEG",
    );
  }
  const { width, height } = rgb;
  if (channels === 3) return { width, height, channels, data: rgb.data };
  const data = new Uint8Array(width * height);
  const s = rgb.data;
  for (let i = 0; i < data.length; i++)
    data[i] = Math.round(255 * luminance(s[3 * i] / 255, s[3 * i + 1] / 255, s[3 * i + 2] / 255));
  return { width, height, channels, data };
}

/**
 * Resizes a raster to height x width by bilinear interpolation (half-pixel centres, see the top
 * of this file) into out[offset ..] as floats 0..255, row-major HWC.
 */
export function resizeBilinear(r: Raster, height: number, width: number, out: Float32Array, offset = 0): void {
  const C = r.channels,
    src = r.data;
  if (r.height === height && r.width === width) {
    for (let i = 0; i < src.length; i++) out[offset + i] = src[i];
    return;
  }
  const axis = (size: number, inSize: number) => {
    const lo = new Int32Array(size),
      hi = new Int32Array(size),
      f = new Float64Array(size);
    for (let o = 0; o < size; o++) {
      const s = Math.min(Math.max((o + 0.5) * (inSize / size) - 0.5, 0), inSize - 1);
      lo[o] = Math.floor(s);
      hi[o] = Math.min(lo[o] + 1, inSize - 1);
      f[o] = s - lo[o];
    }
    return { lo, hi, f };
  };
  const ys = axis(height, r.height),
    xs = axis(width, r.width);
  for (let y = 0; y < height; y++) {
    const top = ys.lo[y] * r.width,
      bottom = ys.hi[y] * r.width,
      fy = ys.f[y];
    for (let x = 0; x < width; x++) {
      const left = xs.lo[x],
        right = xs.hi[x],
        fx = xs.f[x];
      for (let c = 0; c < C; c++) {
        const a = src[(top + left) * C + c],
          b = src[(top + right) * C + c];
        const d = src[(bottom + left) * C + c],
          e = src[(bottom + right) * C + c];
        out[offset + (y * width + x) * C + c] = (1 - fy) * ((1 - fx) * a + fx * b) + fy * ((1 - fx) * d + fx * e);
      }
    }
  }
}

/**
 * One image file (name, bytes) as an example of `shape` [H, W, C]: decoded, converted to C
 * channels, resized to H x W; H x W x C floats 0..255, row-major HWC. Written into
 * out[offset ..] when `out` is given (and returned), else into a new array.
 */
export function decodeImage(
  name: string,
  bytes: Uint8Array,
  shape: ImageExampleShape,
  out?: Float32Array,
  offset = 0,
): Float32Array {
  checkImageShape(shape, "decodeImage");
  const [H, W, C] = shape;
  const target = out ?? new Float32Array(H * W * C);
  if (target.length < offset + H * W * C)
    throw new ShapeError(
      `decodeImage: an example of shape [${shape}] needs ${H * W * C} values from offset ${offset}, the output holds ${target.length}`,
    );
  resizeBilinear(decodeRaster(name, bytes, C as 1 | 3), H, W, target, offset);
  return target;
}

/**
 * The label order of a set of images: `given` (each must have images: a DataFormatError naming
 * the first that has none) or the class names found, sorted (by UTF-16 code units, as
 * Array.prototype.sort). `where` names the folder or set in errors.
 */
export function classOrder(found: Iterable<string>, given: readonly string[] | undefined, where: string): string[] {
  const have = new Set(found);
  if (!given) return [...have].sort();
  if (!Array.isArray(given) || given.length === 0 || given.some((c) => typeof c !== "string")) {
    throw new OptionError(
      `${where}: expected classes to be a non-empty list of class names, found ${JSON.stringify(given)}`,
    );
  }
  if (new Set(given).size !== given.length)
    throw new OptionError(`${where}: the class list ${JSON.stringify(given)} names a class twice`);
  const missing = given.find((c) => !have.has(c));
  if (missing !== undefined) {
    throw new DataFormatError(
      `${where}: expected images of class "${missing}", found none`,
      `the classes found are ${
        [...have]
          .sort()
          .map((c) => JSON.stringify(c))
          .join(", ") || "(none)"
      }`,
    );
  }
  return [...given];
}

/** The files of each class (classes in label order, files sorted by name, at most `limit` each). */
function groupByClass<T extends { readonly name: string; readonly className: string }>(
  files: readonly T[],
  classNames: readonly string[],
  limit: number | undefined,
): T[][] {
  const index = new Map(classNames.map((c, i) => [c, i]));
  const groups: T[][] = classNames.map(() => []);
  for (const f of files) {
    const i = index.get(f.className);
    if (i !== undefined) groups[i].push(f);
  }
  return groups.map((g) =>
    g.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)).slice(0, limit ?? g.length),
  );
}

/** The files groupByClass takes, in one list (class by class), and the label of each: its class's index. */
export function labelledFiles<T extends { readonly name: string; readonly className: string }>(
  files: readonly T[],
  classNames: readonly string[],
  limit: number | undefined,
): { files: T[]; y: Float32Array } {
  const groups = groupByClass(files, classNames, limit);
  return { files: groups.flat(), y: Float32Array.from(groups.flatMap((g, label) => g.map(() => label))) };
}

/**
 * A dataset from image files given as (name, bytes, class) - the browser's way to an image
 * folder (e.g. the files of an <input webkitdirectory>, class = the sub-folder of each). Labels
 * follow `classes` (default: the class names, sorted); files of classes not in `classes` are
 * left out; within a class the files are taken in name order. x: n x H x W x C floats 0..255.
 */
export function imageDataset(files: readonly ImageFile[], opts: ImageDatasetOptions): Dataset {
  checkImageShape(opts.shape, "imageDataset");
  checkLimit(opts.limit, "imageDataset");
  if (files.length === 0)
    throw new DataFormatError("imageDataset: expected image files, found none", "pass at least one file of each class");
  const classNames = classOrder(
    files.map((f) => f.className),
    opts.classes,
    "imageDataset",
  );
  const { files: taken, y } = labelledFiles(files, classNames, opts.limit);
  const [H, W, C] = opts.shape,
    F = H * W * C;
  const x = new Float32Array(taken.length * F);
  for (const [i, f] of taken.entries()) decodeImage(f.name, f.bytes, opts.shape, x, i * F);
  return fromArrays({ x, y, shape: opts.shape, classes: classNames.length, classNames });
}
