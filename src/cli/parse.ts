import { InvalidArgumentError } from "commander";
import { closest } from "../core/suggest.js";

/** Commander value parsers that reject bad values with a message naming what was expected. */
export function integer(min: number) {
  return (text: string): number => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < min)
      throw new InvalidArgumentError(`expected an integer >= ${min}, found "${text}"`);
    return n;
  };
}

export function positiveNumber(text: string): number {
  const n = Number(text);
  if (!(Number.isFinite(n) && n > 0)) throw new InvalidArgumentError(`expected a positive number, found "${text}"`);
  return n;
}

export function oneOf<T extends string>(values: readonly T[]) {
  return (text: string): T => {
    if ((values as readonly string[]).includes(text)) return text as T;
    throw new InvalidArgumentError(
      `expected one of ${values.join(", ")}, found "${text}" (did you mean "${closest(text, values)}"?)`,
    );
  };
}
