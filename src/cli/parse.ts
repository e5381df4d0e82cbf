import { InvalidArgumentError } from "commander";
import { closest } from "../core/suggest.js";

/** Commander value parsers that reject bad values with a message naming what was expected. */
export function integer(min: number, max = Number.MAX_SAFE_INTEGER) {
  return (text: string): number => {
    const n = Number(text);
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `from ${min} to ${max}`;
    if (text.trim() === "" || !Number.isInteger(n) || n < min || n > max)
      throw new InvalidArgumentError(`expected an integer ${range}, found "${text}"`);
    return n;
  };
}

/** The largest seed: seeds are 32-bit (a larger one would silently equal its remainder). */
export const MAX_SEED = 0xffffffff;

/** A seed: an integer from 0 to MAX_SEED. */
export const seed = integer(0, MAX_SEED);

/** A file or folder path: any text but the empty one (which would name no place). */
export function path(text: string): string {
  if (text.trim() === "") throw new InvalidArgumentError(`expected a path, found an empty string`);
  return text;
}

export function positiveNumber(text: string): number {
  const n = Number(text);
  if (!(Number.isFinite(n) && n > 0)) throw new InvalidArgumentError(`expected a positive number, found "${text}"`);
  return n;
}

/**
 * One of `values`; a wrong word gets a "did you mean" hint: its meaning from `synonyms` (other
 * words for a value, e.g. "binary" -> "det"), else the closest value by spelling.
 */
export function oneOf<T extends string>(values: readonly T[], synonyms: Readonly<Record<string, T>> = {}) {
  return (text: string): T => {
    if ((values as readonly string[]).includes(text)) return text as T;
    const meant = Object.hasOwn(synonyms, text.toLowerCase()) ? synonyms[text.toLowerCase()] : closest(text, values);
    throw new InvalidArgumentError(`expected one of ${values.join(", ")}, found "${text}" (did you mean "${meant}"?)`);
  };
}
