/**
 * The house rules of the tree that a newcomer relies on to find things in one step: every test
 * in test/, and every kernel of the contract in a file of its own name on every backend.
 */
import { existsSync, readdirSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { KERNEL_NAMES } from "../src/kernels/contract.js";

const ROOT = new URL("..", import.meta.url).pathname;

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)],
  );
}

describe("the layout of the tree", () => {
  it("every test lives in test/: none beside the code (vitest runs test/ only)", () => {
    const stray = filesUnder(join(ROOT, "src"))
      .filter((f) => /\.test\.[cm]?[jt]s$/.test(f))
      .map((f) => relative(ROOT, f));
    expect(stray).toEqual([]);
  });

  it("every kernel of the contract has a file of its name on each backend", () => {
    const missing: string[] = [];
    for (const name of KERNEL_NAMES)
      for (const dir of ["src/backends/reference/kernels", "src/backends/wasm/kernels", "src/backends/webgpu/kernels"])
        if (!existsSync(join(ROOT, dir, `${name}.ts`))) missing.push(`${dir}/${name}.ts`);
    expect(missing).toEqual([]);
    expect(KERNEL_NAMES.length).toBeGreaterThan(15);
  });
});
