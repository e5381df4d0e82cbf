import type { Backend } from "../src/backends/backend.js";
import { createBackend, type BackendName } from "../src/backends/index.js";

/** The backends every cross-backend test runs on. */
export const TEST_BACKENDS: readonly { name: BackendName; threads?: number }[] = [
  { name: "reference" },
  { name: "wasm", threads: 1 },
  { name: "wasm", threads: 2 },
];

export function label(b: { name: BackendName; threads?: number }): string {
  return b.threads ? `${b.name} (${b.threads} thread${b.threads > 1 ? "s" : ""})` : b.name;
}

export function open(b: { name: BackendName; threads?: number }): Promise<Backend> {
  return createBackend(b.name, { threads: b.threads });
}

/** max over i of |a - b| - (atol + rtol |b|); <= 0 means all within tolerance. */
export function worstExcess(actual: ArrayLike<number>, expected: ArrayLike<number>, atol: number, rtol: number): { excess: number; index: number } {
  if (actual.length !== expected.length) throw new Error(`length ${actual.length} != expected ${expected.length}`);
  let excess = -Infinity, index = -1;
  for (let i = 0; i < expected.length; i++) {
    const e = Math.abs(actual[i] - expected[i]) - (atol + rtol * Math.abs(expected[i]));
    if (!(e <= excess)) {
      excess = Number.isNaN(e) ? Infinity : e;
      index = i;
    }
  }
  return { excess, index };
}
