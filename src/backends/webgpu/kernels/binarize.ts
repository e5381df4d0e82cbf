import type { KernelImpl } from "../../backend.js";
import type { WebGpuBackend } from "../index.js";
import { bindings, f32Bits, type Program } from "../program.js";
import { binarizeWgsl } from "../wgsl/binarize.js";
import { dispatchElementwise, elementwiseProgram } from "./launch.js";

const PARAMS = [
  ["hBits", "u32"],
  ["key", "u32"],
  ["hHi", "u32"],
  ["hLo", "u32"],
  ["hExp", "i32"],
] as const;
const TENSORS = bindings(["w"], ["out"], "u32");
const PROGRAMS: Record<"det" | "stoch", Program> = {
  det: elementwiseProgram("binarize(det)", PARAMS, TENSORS, () => binarizeWgsl("det")),
  stoch: elementwiseProgram("binarize(stoch)", PARAMS, TENSORS, () => binarizeWgsl("stoch")),
};

/** Wb = +-H, deterministic (sign) or stochastic (hard sigmoid), bit-exact with the reference. */
export const binarize: KernelImpl<WebGpuBackend, "binarize"> = (be, { w, out, mode, H, key }) => {
  if (!w.size) return;
  const [hHi, hLo, hExp] = float64Parts(H);
  dispatchElementwise(be, PROGRAMS[mode], [w, out], w.size, [f32Bits(H), key >>> 0, hHi, hLo, hExp]);
};

const f64 = new Float64Array(1);
const words = new Uint32Array(f64.buffer); // little-endian: [low, high]

/** H = (hi 2^32 + lo) 2^exp with the 53-bit significand hi:lo (H > 0, finite). */
export function float64Parts(H: number): [number, number, number] {
  f64[0] = H;
  const biased = (words[1] >>> 20) & 0x7ff;
  const hi = words[1] & 0xfffff;
  return biased === 0 ? [hi, words[0], -1074] : [hi | 0x100000, words[0], biased - 1075];
}
