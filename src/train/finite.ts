/**
 * Non-finite values (NaN, +-Infinity) in a model's tensors: a diverged training must not be
 * saved over a good checkpoint, evaluated or exported (browser-safe).
 */
import { NumericalError } from "../core/errors.js";
import type { NamedArray } from "./checkpointFormat.js";

export interface NonFinite {
  tensor: string;
  /** How many values of that tensor are not finite, the first one's index and value. */
  count: number;
  index: number;
  value: number;
}

/** The first tensor with a value that is NaN or infinite (and how many it has); null when all are finite. */
export function firstNonFinite(tensors: readonly NamedArray[]): NonFinite | null {
  for (const t of tensors) {
    const d = t.data;
    for (let i = 0; i < d.length; i++) {
      // v - v is NaN for NaN and for +-Infinity, 0 otherwise
      if (d[i] - d[i] !== 0) {
        let count = 0;
        for (let j = i; j < d.length; j++) if (d[j] - d[j] !== 0) count++;
        return { tensor: t.name, count, index: i, value: d[i] };
      }
    }
  }
  return null;
}

/** "tensor dense1.W holds 12 non-finite values (NaN at index 5 first)". */
export function describeNonFinite(n: NonFinite): string {
  return `tensor ${n.tensor} holds ${n.count === 1 ? "a non-finite value" : `${n.count.toLocaleString("en-US")} non-finite values`} (${n.value} at index ${n.index}${n.count === 1 ? "" : " first"})`;
}

/** Throws a NumericalError naming the first non-finite tensor of `tensors` (`what`: whose tensors). */
export function checkFinite(tensors: readonly NamedArray[], what: string, hint?: string): void {
  const bad = firstNonFinite(tensors);
  if (bad) throw new NumericalError(`${what}: ${describeNonFinite(bad)}`, hint);
}
