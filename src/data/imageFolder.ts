/**
 * An image-classification folder from disk (Node.js): one sub-folder per class, holding PNG and
 * JPEG files (.png, .jpg, .jpeg, any case). The decoding, conversion and resizing are image.ts's
 * (browser-safe); this file only walks the folder and reads the files.
 *
 *   dir/cat/001.png, dir/cat/002.jpg, dir/dog/a.jpeg   ->   classes ["cat", "dog"], labels 0 / 1
 */
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { DataFormatError } from "../core/errors.js";
import { readError } from "./readError.js";
import { fromArrays, type Dataset } from "./dataset.js";
import {
  checkImageShape,
  checkLimit,
  classOrder,
  decodeImage,
  labelledFiles,
  isImageFileName,
  type ImageExampleShape,
} from "./image.js";

export interface ImageFolderOptions {
  /** [H, W, C] of every example: each image is converted to C = 1 (luminance) or 3 (RGB) channels and resized to H x W (bilinear). */
  shape: ImageExampleShape;
  /** The class sub-folders to read, in label order (default: all of them, names sorted). */
  classes?: readonly string[];
  /** At most this many images of each class (the first by file name). Default: all. */
  limit?: number;
}

/** An image folder's dataset, with where each example came from and what was left out. */
export interface ImageFolderDataset extends Dataset {
  readonly classNames: readonly string[];
  /** The file of each example, relative to the folder ("cat/001.png"). */
  readonly files: readonly string[];
  /** Entries that were not read: files of other extensions, files directly in the folder, nested folders. */
  readonly skipped: number;
}

interface Found {
  readonly name: string;
  readonly className: string;
  readonly path: string;
}

/**
 * Reads an image folder (see the top of this file) as a dataset: x is n x H x W x C raw values
 * 0..255 (float32, NHWC), y the index of each image's class in `classNames`. Classes follow
 * `classes` or the sorted sub-folder names; within a class, files are taken in name order.
 * Errors (DataFormatError): the folder cannot be read or has no class sub-folders; a class has
 * no PNG or JPEG images (naming it); an image does not decode (naming the file).
 */
export async function loadImageFolder(dir: string, opts: ImageFolderOptions): Promise<ImageFolderDataset> {
  checkImageShape(opts.shape, "loadImageFolder");
  checkLimit(opts.limit, "loadImageFolder");
  const entries = await list(dir);
  let skipped = entries.filter((e) => !e.isDirectory()).length;
  const folders = entries.filter((e) => e.isDirectory()).map((e) => e.name);
  if (folders.length === 0) {
    throw new DataFormatError(
      `${dir}: expected one sub-folder per class, found no sub-folders`,
      "put the images of each class in a folder named after the class, e.g. cats/ and dogs/",
    );
  }
  const classNames = classOrder(folders, opts.classes, dir);
  const found: Found[] = [];
  for (const className of classNames) {
    const folder = join(dir, className);
    let images = 0;
    for (const e of await list(folder)) {
      if (e.isFile() && isImageFileName(e.name)) {
        found.push({ name: `${className}/${e.name}`, className, path: join(folder, e.name) });
        images++;
      } else skipped++;
    }
    if (images === 0)
      throw new DataFormatError(
        `${folder}: expected PNG or JPEG images of class "${className}", found none`,
        "remove the empty class folder, or pass classes without it",
      );
  }
  const { files: taken, y } = labelledFiles(found, classNames, opts.limit);
  const [H, W, C] = opts.shape,
    F = H * W * C;
  const x = new Float32Array(taken.length * F);
  for (const [i, f] of taken.entries()) decodeImage(f.path, await read(f.path), opts.shape, x, i * F);
  const files = taken.map((f) => f.name);
  return {
    ...fromArrays({ x, y, shape: opts.shape, classes: classNames.length, classNames }),
    classNames,
    files,
    skipped,
  };
}

async function list(dir: string) {
  try {
    return await readdir(dir, { withFileTypes: true });
  } catch (e) {
    throw readError(
      e,
      dir,
      `cannot read the folder ${dir}: ${(e as Error).message}`,
      "pass a folder holding one sub-folder of images per class",
    );
  }
}

async function read(path: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(path));
  } catch (e) {
    throw readError(e, path, `cannot read ${path}: ${(e as Error).message}`);
  }
}
