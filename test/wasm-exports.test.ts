/**
 * The wasm module's typed exports: wasm/build.mjs declares them from the AssemblyScript sources
 * (KernelsWasmExports in src/backends/wasm/kernels.wasm.generated.ts) and WasmBackend.dispatch
 * types each kernel call by that declaration. Here: the declaration agrees with the compiled
 * modules (names and parameter counts, both builds), the kernel table has one host file per
 * kernel of the contract, and, for the type check (npm run typecheck), calls with a wrong
 * argument count or type do not compile.
 */
import { readdirSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { KERNEL_NAMES } from "../src/kernels/contract.js";
import type { WasmBackend } from "../src/backends/wasm/index.js";
import { KERNELS } from "../src/backends/wasm/kernels/index.js";
import { instantiate, kernelsModule } from "../src/backends/wasm/module.js";
import type { KernelExports, KernelParams } from "../src/backends/wasm/signatures.js";
import { resolveSimd } from "../src/backends/wasm/simd.js";

/**
 * The parameter count of every export, as the declaration has it: a number that differs from
 * the declaration fails the type check, one that differs from the module fails the test.
 */
const DECLARED_COUNTS: {
  [K in keyof KernelExports]: KernelExports[K] extends (...args: infer P) => unknown ? P["length"] : "memory";
} = {
  memory: "memory",
  heapBase: 0,
  matmulScratchBytes: 0,
  convScratchBytes: 0,
  binaryMatmulScratchBytes: 2,
  convLutScratchBytes: 2,
  winogradWorkFloats: 3,
  winogradProductScratchBytes: 3,
  winogradFilterScratchBytes: 1,
  winogradFilterFloats: 2,
  winogradGroupScratchBytes: 3,
  winogradSignBytes: 2,
  winogradSignScratchBytes: 2,
  adam: 13,
  batchNormBackward: 19,
  batchNormInfer: 12,
  batchNormTrain: 19,
  biasAdd: 6,
  binarize: 7,
  binaryMatmul: 13,
  columnSum: 7,
  conv2d: 24,
  conv2dBackwardFilter: 26,
  conv2dBackwardInput: 24,
  copy: 4,
  dropout: 8,
  fill: 4,
  matmul: 17,
  maxPool: 13,
  maxPoolBackward: 14,
  multiply: 5,
  relu: 4,
  reluBackward: 5,
  squareHingeLoss: 7,
};

describe("the module's declared exports", () => {
  for (const simd of ["baseline", "relaxed"] as const) {
    it(`match the ${simd} module: the same names, each function with the declared parameter count`, async () => {
      const module = await kernelsModule(await resolveSimd(simd), false); // "relaxed" turns on Node.js 20's flag
      const memory = new WebAssembly.Memory({ initial: 1, maximum: 16 });
      const exports = instantiate(module, memory) as unknown as Record<string, unknown>;
      expect(
        WebAssembly.Module.exports(module)
          .map((e) => e.name)
          .sort(),
      ).toEqual(Object.keys(DECLARED_COUNTS).sort());
      for (const [name, count] of Object.entries(DECLARED_COUNTS)) {
        if (count === "memory") expect(exports[name]).toBeInstanceOf(WebAssembly.Memory);
        else expect([name, (exports[name] as (...args: number[]) => unknown).length]).toEqual([name, count]);
      }
    });
  }

  it("every kernel of the contract has an export of its name and a host file of its name (src/backends/wasm/kernels/<name>.ts)", () => {
    const files = readdirSync(new URL("../src/backends/wasm/kernels/", import.meta.url)).map((f) =>
      f.replace(/\.ts$/, ""),
    );
    for (const name of KERNEL_NAMES) {
      expect(DECLARED_COUNTS[name]).toBeTypeOf("number");
      expect(files).toContain(name);
      expect(KERNELS[name]).toBeTypeOf("function");
    }
  });
});

/**
 * Never called: calls that the type check must refuse (each `@ts-expect-error` fails the type
 * check if its line compiles), next to correct ones.
 */
// biome-ignore lint/suspicious/noExportsInTest: exported so that the compiler checks this never-called function
export function typeChecks(be: WasmBackend, n: number, flag: boolean): void {
  // biasAdd(x, bias, out, N | r0, r1)
  be.dispatch("biasAdd", [n, n, n, n], [[0, 1]]);
  // @ts-expect-error a part short of an argument (r1)
  be.dispatch("biasAdd", [n, n, n, n], [[0]]);
  // @ts-expect-error one argument too many
  be.dispatch("biasAdd", [n, n, n, n, n], [[0, 1]]);
  // @ts-expect-error a common list longer than the parameters
  be.dispatch("biasAdd", [n, n, n, n, n, n, n], [[]]);
  // columnSum(x, out, M, N | c0, c1, scratch): with scratchBytes, dispatch adds the scratch
  be.dispatch("columnSum", [n, n, n, n], [[0, 1]], 64);
  // @ts-expect-error without scratchBytes the scratch argument is missing
  be.dispatch("columnSum", [n, n, n, n], [[0, 1]]);
  // matmul's bools are 0 or 1
  be.dispatch("matmul", [n, n, n, n, n, n, flag ? 1 : 0, 0, 1, n, n, n, n, 0], [[0, 0]], 64);
  // @ts-expect-error a number where a bool (0 | 1) is declared
  be.dispatch("matmul", [n, n, n, n, n, n, +flag, 0, 1, n, n, n, n, 0], [[0, 0]], 64);
  // @ts-expect-error not an export
  be.dispatch("softmax", [n], [[]]);
  const relu: KernelParams<"relu"> = [n, n, 0, 1];
  void relu;
}
