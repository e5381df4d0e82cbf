/**
 * SVHN format 2 (the 32x32 crops; docs: data.md): MATLAB level-5 files train_32x32.mat (73,257),
 * test_32x32.mat (26,032) and extra_32x32.mat (531,131), each holding X (32 x 32 x 3 x N uint8:
 * X(:,:,:,i) is image i, rows x columns x RGB) and y (N x 1, labels 1..10 where 10 means the digit 0).
 */
import { DataFormatError } from "../core/errors.js";
import { readMat } from "./mat.js";

export const SVHN_FILES = { train: "train_32x32.mat", test: "test_32x32.mat", extra: "extra_32x32.mat" } as const;
export const SVHN_IMAGE_BYTES = 3072;

/** Images as NHWC rows of 3072 bytes (32 x 32 x RGB), labels 0..9. */
export interface SvhnSet {
  images: Uint8Array;
  labels: Uint8Array;
  n: number;
}

/** Reads one format-2 file's X and y. */
export function parseSvhnMat(bytes: Uint8Array, source: string): SvhnSet {
  const vars = readMat(bytes, source, ["X", "y"]);
  const X = vars.get("X"),
    y = vars.get("y");
  if (!X || !y) {
    throw new DataFormatError(
      `${source}: expected variables X and y (SVHN format 2), found ${[...readMat(bytes, source).keys()].join(", ") || "none"}`,
      "use the format-2 files (train_32x32.mat, test_32x32.mat, extra_32x32.mat), not format 1",
    );
  }
  const [h, w, c, n = 1] = X.dims;
  if (X.dims.length > 4 || h !== 32 || w !== 32 || c !== 3)
    throw new DataFormatError(`${source}: X must be 32 x 32 x 3 x N, found ${X.dims.join(" x ")}`);
  if (y.data.length !== n || !(y.dims.length === 2 && (y.dims[0] === 1 || y.dims[1] === 1))) {
    throw new DataFormatError(
      `${source}: y must be an N x 1 vector of ${n} labels (one per image of X), found ${y.dims.join(" x ")}`,
    );
  }
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const v = y.data[i];
    if (!(Number.isInteger(v) && v >= 1 && v <= 10))
      throw new DataFormatError(`${source}: y(${i + 1}) = ${v}, expected a label 1..10 (10 is the digit 0)`);
    labels[i] = v % 10;
  }
  const images = new Uint8Array(n * SVHN_IMAGE_BYTES),
    src = X.data;
  for (let i = 0; i < n; i++) {
    for (let ch = 0; ch < 3; ch++) {
      for (let col = 0; col < 32; col++) {
        for (let row = 0; row < 32; row++) {
          const v = src[row + 32 * col + 1024 * ch + 3072 * i];
          if (!(v >= 0 && v <= 255 && Number.isInteger(v)))
            throw new DataFormatError(`${source}: X holds ${v}, expected pixels 0..255`);
          images[i * SVHN_IMAGE_BYTES + (row * 32 + col) * 3 + ch] = v;
        }
      }
    }
  }
  return { images, labels, n };
}
