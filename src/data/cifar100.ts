/**
 * CIFAR-100 in its official binary layout ("CIFAR-100 binary version"): files of records of
 * 3,074 bytes - a coarse label byte (0..19), a fine label byte (0..99), then the 32x32 image as
 * 1024 red, 1024 green and 1024 blue bytes (row-major planes). The archive unpacks to a folder
 * `cifar-100-binary` holding train.bin (50,000 records) and test.bin (10,000).
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { DataFormatError, OptionError } from "../core/errors.js";
import { planesToHwc } from "./cifar10.js";
import { fromArrays, type Dataset } from "./dataset.js";

export const CIFAR100_IMAGE_BYTES = 3072;
export const CIFAR100_RECORD_BYTES = 2 + CIFAR100_IMAGE_BYTES;
export const CIFAR100_FOLDER = "cifar-100-binary";

/** The 100 fine classes in label order (the official fine_label_names.txt). */
export const CIFAR100_FINE_LABELS = [
  "apple",
  "aquarium_fish",
  "baby",
  "bear",
  "beaver",
  "bed",
  "bee",
  "beetle",
  "bicycle",
  "bottle",
  "bowl",
  "boy",
  "bridge",
  "bus",
  "butterfly",
  "camel",
  "can",
  "castle",
  "caterpillar",
  "cattle",
  "chair",
  "chimpanzee",
  "clock",
  "cloud",
  "cockroach",
  "couch",
  "crab",
  "crocodile",
  "cup",
  "dinosaur",
  "dolphin",
  "elephant",
  "flatfish",
  "forest",
  "fox",
  "girl",
  "hamster",
  "house",
  "kangaroo",
  "keyboard",
  "lamp",
  "lawn_mower",
  "leopard",
  "lion",
  "lizard",
  "lobster",
  "man",
  "maple_tree",
  "motorcycle",
  "mountain",
  "mouse",
  "mushroom",
  "oak_tree",
  "orange",
  "orchid",
  "otter",
  "palm_tree",
  "pear",
  "pickup_truck",
  "pine_tree",
  "plain",
  "plate",
  "poppy",
  "porcupine",
  "possum",
  "rabbit",
  "raccoon",
  "ray",
  "road",
  "rocket",
  "rose",
  "sea",
  "seal",
  "shark",
  "shrew",
  "skunk",
  "skyscraper",
  "snail",
  "snake",
  "spider",
  "squirrel",
  "streetcar",
  "sunflower",
  "sweet_pepper",
  "table",
  "tank",
  "telephone",
  "television",
  "tiger",
  "tractor",
  "train",
  "trout",
  "tulip",
  "turtle",
  "wardrobe",
  "whale",
  "willow_tree",
  "wolf",
  "woman",
  "worm",
] as const;

/** The 20 coarse classes (superclasses) in label order (the official coarse_label_names.txt). */
export const CIFAR100_COARSE_LABELS = [
  "aquatic_mammals",
  "fish",
  "flowers",
  "food_containers",
  "fruit_and_vegetables",
  "household_electrical_devices",
  "household_furniture",
  "insects",
  "large_carnivores",
  "large_man-made_outdoor_things",
  "large_natural_outdoor_scenes",
  "large_omnivores_and_herbivores",
  "medium_mammals",
  "non-insect_invertebrates",
  "people",
  "reptiles",
  "small_mammals",
  "trees",
  "vehicles_1",
  "vehicles_2",
] as const;

/** Which label of a record a dataset uses: the 100 fine classes or the 20 coarse superclasses. */
export type Cifar100Labels = "fine" | "coarse";

export interface Cifar100Options {
  /** Default "fine" (100 classes). */
  labels?: Cifar100Labels;
}

function labelsOption(opts: Cifar100Options, where: string): Cifar100Labels {
  const labels = opts.labels ?? "fine";
  if (labels !== "fine" && labels !== "coarse")
    throw new OptionError(`${where}: expected labels to be "fine" or "coarse", found ${JSON.stringify(labels)}`);
  return labels;
}

/**
 * Parses one file in the official layout to a dataset: x is n x 32 x 32 x 3 raw values 0..255
 * (float32, NHWC), y the fine (0..99) or coarse (0..19) label, classNames the official names.
 * Both labels of every record are checked. DataFormatError (naming `source`): a size that is
 * not a positive multiple of 3,074 bytes, a label out of range.
 */
export function parseCifar100(bytes: Uint8Array, source: string, opts: Cifar100Options = {}): Dataset {
  const which = labelsOption(opts, source);
  if (bytes.length === 0 || bytes.length % CIFAR100_RECORD_BYTES !== 0) {
    throw new DataFormatError(
      `${source}: expected a whole number of ${CIFAR100_RECORD_BYTES}-byte CIFAR-100 records, found ${bytes.length} bytes (${Math.floor(bytes.length / CIFAR100_RECORD_BYTES)} records and ${bytes.length % CIFAR100_RECORD_BYTES} bytes over)`,
      "the file is truncated or not a CIFAR-100 binary file (CIFAR-10's records are 3,073 bytes)",
    );
  }
  const n = bytes.length / CIFAR100_RECORD_BYTES;
  const images = new Uint8Array(n * CIFAR100_IMAGE_BYTES),
    y = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const at = i * CIFAR100_RECORD_BYTES,
      coarse = bytes[at],
      fine = bytes[at + 1];
    if (coarse >= CIFAR100_COARSE_LABELS.length || fine >= CIFAR100_FINE_LABELS.length) {
      throw new DataFormatError(
        `${source}: record ${i} has coarse label ${coarse} and fine label ${fine}, expected 0..19 and 0..99`,
        "the file is corrupt or not a CIFAR-100 binary file",
      );
    }
    y[i] = which === "fine" ? fine : coarse;
    images.set(bytes.subarray(at + 2, at + CIFAR100_RECORD_BYTES), i * CIFAR100_IMAGE_BYTES);
  }
  const classNames = which === "fine" ? CIFAR100_FINE_LABELS : CIFAR100_COARSE_LABELS;
  return fromArrays({
    x: planesToHwc(images, n, 32, 32, 3),
    y,
    shape: [32, 32, 3],
    classes: classNames.length,
    classNames,
  });
}

/**
 * The official training (train.bin) and test (test.bin) sets from `dir`: the folder holding
 * them, or the one holding `cifar-100-binary/` (as unpacked from the archive). See parseCifar100.
 */
export async function loadCifar100(
  dir: string,
  opts: Cifar100Options = {},
): Promise<{ train: Dataset; test: Dataset }> {
  labelsOption(opts, "loadCifar100");
  const folders = [dir, join(dir, CIFAR100_FOLDER)];
  for (const folder of folders) {
    const train = await readOrNull(join(folder, "train.bin"));
    if (!train) continue;
    const testPath = join(folder, "test.bin");
    const test = await readOrNull(testPath);
    if (!test)
      throw new DataFormatError(
        `CIFAR-100: expected ${testPath} next to train.bin, found no such file`,
        "the folder needs both train.bin and test.bin of the binary version",
      );
    return { train: parseCifar100(train, join(folder, "train.bin"), opts), test: parseCifar100(test, testPath, opts) };
  }
  throw new DataFormatError(
    `CIFAR-100: expected train.bin and test.bin in ${folders.join(" or ")}, found no train.bin`,
    "unpack the CIFAR-100 binary version (cifar-100-binary.tar.gz) and pass its folder or the folder above it",
  );
}

/** The file's bytes, or null when it does not exist (a DataFormatError when it exists but cannot be read). */
async function readOrNull(path: string): Promise<Uint8Array | null> {
  try {
    return new Uint8Array(await readFile(path));
  } catch (e) {
    if ((e as { code?: string }).code === "ENOENT") return null;
    throw new DataFormatError(`CIFAR-100: cannot read ${path}: ${(e as Error).message}`);
  }
}
