/**
 * The parameters and memory of a network, layer by layer (browser-safe): as float32, and with
 * every binary weight stored as 1 bit (the other parameters - batch norm's scale and shift,
 * which fold into one per unit - stay float32), as larq's summary reports them.
 */
import { layerOutputShape, unknownLayer } from "./architecture.js";
import type { NetworkConfig } from "./network.js";

export interface LayerSummary {
  name: string;
  /** The weights' shape ("784x1024", "3x3x1x32") or "2xC" for batch norm. */
  shape: string;
  /** The layer's output shape for one example. */
  output?: string;
  params: number;
  /** Parameters stored as 1 bit (binarized weights). */
  binary: number;
  float32Bytes: number;
  packedBytes: number;
}

/** One row per layer of `config` with parameters (conv, dense, batch norm) plus those without (output shapes only). */
export function summarizeNetwork(config: NetworkConfig, withParameterFree = false): LayerSummary[] {
  const rows: LayerSummary[] = [];
  let dims: number[] = [...config.input];
  const count: Record<string, number> = {};
  const name = (kind: string) => `${kind}${(count[kind] = (count[kind] ?? -1) + 1)}`;
  const weights = (row: string, shape: string, n: number, binarize: string | undefined, out: number[]) => {
    const binary = (binarize ?? config.binarization) === "none" ? 0 : n;
    rows.push({
      name: row,
      shape,
      output: out.join("x"),
      params: n,
      binary,
      float32Bytes: 4 * n,
      packedBytes: binary ? Math.ceil(n / 8) : 4 * n,
    });
  };
  for (const l of config.layers) {
    const channels = dims[dims.length - 1];
    const out = layerOutputShape(l, dims);
    switch (l.kind) {
      case "conv":
        weights(
          name("conv"),
          `${l.kernel[0]}x${l.kernel[1]}x${channels}x${l.filters}`,
          l.kernel[0] * l.kernel[1] * channels * l.filters,
          l.binarize,
          out,
        );
        break;
      case "dense":
        weights(name("dense"), `${channels}x${l.units}`, channels * l.units, l.binarize, out);
        break;
      case "batchnorm":
        rows.push({
          name: name("bn"),
          shape: `2x${channels}`,
          output: out.join("x"),
          params: 2 * channels,
          binary: 0,
          float32Bytes: 8 * channels,
          packedBytes: 8 * channels,
        });
        break;
      case "maxpool":
      case "relu":
      case "dropout":
      case "flatten":
        if (withParameterFree)
          rows.push({
            name: name(l.kind === "maxpool" ? "pool" : l.kind),
            shape: "",
            output: out.join("x"),
            params: 0,
            binary: 0,
            float32Bytes: 0,
            packedBytes: 0,
          });
        break;
      default:
        unknownLayer(l);
    }
    dims = out;
  }
  return rows;
}

const mib = (b: number) => `${(b / 1048576).toFixed(3)} MiB`;

/** The table as text, with a total row and the compression of 1-bit weights. */
export function formatSummary(rows: LayerSummary[]): string {
  const withOutput = rows.some((r) => r.output !== undefined);
  const header = ["layer", "shape", ...(withOutput ? ["output"] : []), "params", "binary", "float32", "1-bit"];
  const fixed = withOutput ? 3 : 2;
  const body = rows.map((r) => [
    r.name,
    r.shape,
    ...(withOutput ? [r.output ?? ""] : []),
    String(r.params),
    String(r.binary),
    mib(r.float32Bytes),
    mib(r.packedBytes),
  ]);
  const total = rows.reduce(
    (t, r) => ({
      params: t.params + r.params,
      binary: t.binary + r.binary,
      f: t.f + r.float32Bytes,
      p: t.p + r.packedBytes,
    }),
    { params: 0, binary: 0, f: 0, p: 0 },
  );
  body.push([
    "total",
    "",
    ...(withOutput ? [""] : []),
    String(total.params),
    String(total.binary),
    mib(total.f),
    mib(total.p),
  ]);
  const widths = header.map((h, c) => Math.max(h.length, ...body.map((r) => r[c].length)));
  const line = (cells: string[]) =>
    cells.map((cell, c) => (c < fixed ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join("  ");
  return [line(header), ...body.map(line), compressionLine(total.f, total.p)].join("\n");
}

/** The file's size with 1-bit weights against float32 (a network without binary layers stays as it is). */
function compressionLine(float32Bytes: number, packedBytes: number): string {
  const ratio = float32Bytes / Math.max(packedBytes, 1);
  return ratio > 1.05
    ? `compression: ${ratio.toFixed(1)}x smaller with 1-bit weights`
    : "compression: none (no binary layers: the weights stay float32)";
}
