/**
 * Numbering a second set (a test set, a validation set, rows to predict) as the training data
 * numbered its classes: by their names where both name them. Browser-safe.
 */
import { DataFormatError } from "../core/errors.js";
import { quotedList } from "./csv.js";
import { fromArrays, type Dataset } from "./dataset.js";

/**
 * A set numbered as the training data: class names mapped to the training data's (a set may
 * hold some of them only); labels that are whole numbers are class indices, below its count.
 */
export function withTrainingClasses(
  set: Dataset,
  training: { count: number; names?: readonly string[] },
  source: string,
): Dataset {
  const { count, names } = training;
  let y = set.y;
  if (set.classNames) {
    if (!names)
      throw new DataFormatError(
        `${source}: its labels are names (${quotedList(set.classNames)}); the training data's classes are numbers 0..${count - 1}`,
      );
    const index = set.classNames.map((n) => names.indexOf(n));
    const unknown = index.indexOf(-1);
    if (unknown >= 0)
      throw new DataFormatError(
        `${source}: class ${JSON.stringify(set.classNames[unknown])} is not one of the training data's: ${quotedList(names)}`,
        "a second set uses the training data's class names",
      );
    y = Float32Array.from(set.y, (v) => index[v]);
  } else if (set.classes > count) {
    throw new DataFormatError(
      `${source}: label ${set.classes - 1} is past the training data's ${count} classes (0..${count - 1})`,
    );
  }
  return fromArrays({
    x: set.x,
    y,
    shape: set.shape,
    classes: count,
    ...(names ? { classNames: names } : {}),
    ...(set.featureNames ? { featureNames: set.featureNames } : {}),
  });
}
