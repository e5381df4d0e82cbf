import { BackendError } from "../../core/errors.js";
import { KERNELS_RELAXED_WASM_BASE64 } from "./kernels.wasm.generated.js";
import { decodeBase64 } from "../../core/base64.js";
import { importNode, isNode } from "./host.js";

/**
 * Which WebAssembly SIMD the wasm backend's kernels use:
 * - `relaxed`: the module built with relaxed SIMD, whose matrix micro-kernel (matmul and the
 *   three convolutions) accumulates with f32x4.relaxed_madd, a fused multiply-add where the CPU
 *   has one (x86 FMA3, Arm): ~1.2x the products on this project's machines. The engine picks
 *   fused or unfused once per machine, so results are deterministic on a machine but may
 *   differ in the last bits between machines.
 * - `baseline`: SIMD128 only (a product, then a sum, each rounded): the same bits everywhere.
 * - `auto` (the default): `relaxed` where the engine accepts it, else `baseline`.
 */
export type SimdChoice = "auto" | "relaxed" | "baseline";
/** The SIMD a backend actually runs. */
export type SimdLevel = Exclude<SimdChoice, "auto">;
export const SIMD_CHOICES: readonly SimdChoice[] = ["auto", "relaxed", "baseline"];

/** Node.js 20's V8 (11.3) accepts relaxed SIMD behind this flag; Node.js 22 and browsers since 2023 by default. */
const RELAXED_SIMD_FLAG = "--experimental-wasm-relaxed-simd";

let relaxedSupport: Promise<boolean> | undefined;

/**
 * Whether this engine compiles the relaxed-SIMD kernels. On a Node.js whose V8 has relaxed SIMD
 * behind a flag (20.x), the flag is turned on first (it only adds the standard's relaxed-SIMD
 * instructions to what WebAssembly accepts).
 */
export function relaxedSimdSupported(): Promise<boolean> {
  relaxedSupport ??= (async () => {
    const bytes = decodeBase64(KERNELS_RELAXED_WASM_BASE64);
    if (WebAssembly.validate(bytes)) return true;
    if (!isNode()) return false;
    const v8 = await importNode<typeof import("node:v8")>("node:v8");
    v8.setFlagsFromString(RELAXED_SIMD_FLAG);
    return WebAssembly.validate(bytes);
  })();
  return relaxedSupport;
}

/** The SIMD level for a choice: `auto` asks the engine; `relaxed` fails with the reason where it is not accepted. */
export async function resolveSimd(
  choice: SimdChoice,
  supported: () => Promise<boolean> = relaxedSimdSupported,
): Promise<SimdLevel> {
  if (choice === "baseline") return "baseline";
  const ok = await supported();
  if (ok) return "relaxed";
  if (choice === "auto") return "baseline";
  const engine =
    typeof process !== "undefined" && process.versions?.node ? `Node.js ${process.versions.node}` : "this engine";
  throw new BackendError(
    `wasm: simd "relaxed" was asked for, but ${engine} does not accept WebAssembly relaxed SIMD; use "auto" or "baseline"`,
  );
}
