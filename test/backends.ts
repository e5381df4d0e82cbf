import { describe, it } from "vitest";
import type { Backend } from "../src/backends/backend.js";
import { createBackend, type BackendName } from "../src/backends/index.js";
import { probeWebGpu } from "../src/backends/webgpu/adapter.js";

/**
 * Whether this machine has a WebGPU adapter (a GPU, or Mesa's software lavapipe installed by
 * `bash scripts/install-test-deps.sh`). Without one the webgpu tests are skipped with `reason`, except
 * in CI (CI=true), where lavapipe is installed and its absence is a failure (test/webgpu-*.test.ts).
 */
export const WEBGPU = await probeWebGpu();
export const WEBGPU_SKIP_REASON = WEBGPU.available ? "" : `no WebGPU adapter: ${WEBGPU.reason}`;

/**
 * A describe block of webgpu tests: run where an adapter is present; otherwise reported as
 * skipped with the reason, or - in CI, which installs lavapipe - one failing test.
 */
export function describeWebGpu(name: string, body: () => void): void {
  if (WEBGPU.available) describe(name, body);
  else if (process.env.CI)
    describe(name, () =>
      it("has a WebGPU adapter (CI installs lavapipe: bash scripts/install-test-deps.sh)", () => {
        throw new Error(WEBGPU_SKIP_REASON);
      }),
    );
  else describe.skip(`${name} [skipped: ${WEBGPU_SKIP_REASON}]`, body);
}

/** The backends every cross-backend test runs on (webgpu only where an adapter is present). */
export const TEST_BACKENDS: readonly { name: BackendName; threads?: number }[] = [
  { name: "reference" },
  { name: "wasm", threads: 1 },
  { name: "wasm", threads: 2 },
  ...(WEBGPU.available ? [{ name: "webgpu" as const }] : []),
];

export function label(b: { name: BackendName; threads?: number }): string {
  return b.threads ? `${b.name} (${b.threads} thread${b.threads > 1 ? "s" : ""})` : b.name;
}

export function open(b: { name: BackendName; threads?: number }): Promise<Backend> {
  return createBackend(b.name, { threads: b.threads });
}

/** max over i of |a - b| - (atol + rtol |b|); <= 0 means all within tolerance. */
export function worstExcess(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  atol: number,
  rtol: number,
): { excess: number; index: number } {
  if (actual.length !== expected.length) throw new Error(`length ${actual.length} != expected ${expected.length}`);
  let excess = -Infinity,
    index = -1;
  for (let i = 0; i < expected.length; i++) {
    const e = Math.abs(actual[i] - expected[i]) - (atol + rtol * Math.abs(expected[i]));
    if (!(e <= excess)) {
      excess = Number.isNaN(e) ? Infinity : e;
      index = i;
    }
  }
  return { excess, index };
}
