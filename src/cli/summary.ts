import { Command, Option } from "commander";
import { BINARIZATIONS, type Binarization } from "../nn/binarization.js";
import { DEFAULT_PRESET, getPreset, PRESETS } from "../train/presets.js";
import { oneOf } from "./parse.js";

export interface LayerSummary {
  name: string;
  shape: string;
  params: number;
  binary: number;
  float32Bytes: number;
  packedBytes: number;
}

/**
 * Per-layer parameter counts and memory of the preset's network: as float32, and with every
 * binary weight stored as 1 bit (other parameters, the batch-norm scale and shift after
 * folding, stay float32). Biases are absent (batch norm follows every dense layer).
 */
export function summarize(hidden: number[], inputs: number, classes: number, mode: Binarization): LayerSummary[] {
  const sizes = [inputs, ...hidden, classes];
  const rows: LayerSummary[] = [];
  for (let i = 0; i + 1 < sizes.length; i++) {
    const w = sizes[i] * sizes[i + 1];
    const binary = mode === "none" ? 0 : w;
    rows.push({ name: `dense${i}`, shape: `${sizes[i]}x${sizes[i + 1]}`, params: w, binary, float32Bytes: 4 * w, packedBytes: binary ? Math.ceil(w / 8) : 4 * w });
    const bn = 2 * sizes[i + 1];
    rows.push({ name: `bn${i}`, shape: `2x${sizes[i + 1]}`, params: bn, binary: 0, float32Bytes: 4 * bn, packedBytes: 4 * bn });
  }
  return rows;
}

const mib = (b: number) => `${(b / 1048576).toFixed(3)} MiB`;

export function formatSummary(rows: LayerSummary[]): string {
  const header = ["layer", "shape", "params", "binary", "float32", "1-bit"];
  const body = rows.map((r) => [r.name, r.shape, String(r.params), String(r.binary), mib(r.float32Bytes), mib(r.packedBytes)]);
  const total = rows.reduce((t, r) => ({ params: t.params + r.params, binary: t.binary + r.binary, f: t.f + r.float32Bytes, p: t.p + r.packedBytes }), { params: 0, binary: 0, f: 0, p: 0 });
  body.push(["total", "", String(total.params), String(total.binary), mib(total.f), mib(total.p)]);
  const widths = header.map((h, c) => Math.max(h.length, ...body.map((r) => r[c].length)));
  const line = (cells: string[]) => cells.map((cell, c) => (c < 2 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join("  ");
  return [line(header), ...body.map(line), `compression: ${(total.f / total.p).toFixed(1)}x smaller with 1-bit weights`].join("\n");
}

export function summaryCommand(): Command {
  return new Command("summary")
    .description("parameters per layer, which are binary, and memory as float32 vs 1-bit")
    .addOption(new Option("--preset <name>", `preset: ${Object.keys(PRESETS).join(", ")}`).default(DEFAULT_PRESET).argParser(oneOf(Object.keys(PRESETS))))
    .addOption(new Option("--mode <mode>", "weight binarization").default("det").argParser(oneOf(BINARIZATIONS)))
    .action((o: { preset: string; mode: Binarization }) => {
      const p = getPreset(o.preset);
      console.log(`${o.preset} (${o.mode}): 784-${p.hidden.join("-")}-10 MLP`);
      console.log(formatSummary(summarize(p.hidden, 784, 10, o.mode)));
    });
}
