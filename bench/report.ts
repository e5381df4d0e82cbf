import { writeFileSync } from "node:fs";

/**
 * One figure of the report, as written by `--json FILE` (an array of these).
 * `value` is the median over the timed runs (null when it could not be measured: `note`
 * says why); `best` is the fastest run. With a peer, ratio = value / peerValue; with a
 * ceiling, fractionOfCeiling = value / ceiling.
 */
export interface Row {
  name: string;
  value: number | null;
  unit: string;
  best?: number;
  peer?: string;
  peerValue?: number;
  ratio?: number;
  ceiling?: number;
  fractionOfCeiling?: number;
  /** The target for this figure, in words (">= 25 GFLOP/s", ">= 10x"). */
  goal?: string;
  goalMet?: boolean;
  note?: string;
}

/** A row of a measured figure; adds the fraction of the ceiling when one is given. */
export function figure(name: string, unit: string, value: number, best: number, extra: Partial<Row> = {}): Row {
  const row: Row = { name, value, unit, best, ...extra };
  if (row.ceiling !== undefined) row.fractionOfCeiling = value / row.ceiling;
  return row;
}

/** A row comparing `value` with a peer's figure (ratio = value / peerValue). */
export function comparison(
  name: string,
  unit: string,
  value: number,
  peer: string,
  peerValue: number,
  extra: Partial<Row> = {},
): Row {
  return { name, value, unit, peer, peerValue, ratio: value / peerValue, ...extra };
}

/** 3 significant digits for small figures, thousands separators for large ones. */
export function fmt(v: number | undefined | null): string {
  if (v === undefined || v === null || !Number.isFinite(v)) return v === null ? "n/a" : "";
  const a = Math.abs(v);
  if (a >= 1000) return Math.round(v).toLocaleString("en-US");
  if (a >= 100) return v.toFixed(0);
  if (a >= 10) return v.toFixed(1);
  if (a >= 0.01 || a === 0) return v.toFixed(2);
  return v.toExponential(1);
}

const COLUMNS: Array<{ title: string; cell: (r: Row) => string; left?: boolean }> = [
  { title: "benchmark", cell: (r) => r.name, left: true },
  { title: "median", cell: (r) => (r.value === null ? "not available" : fmt(r.value)) },
  { title: "best", cell: (r) => fmt(r.best) },
  { title: "unit", cell: (r) => r.unit, left: true },
  { title: "ceiling", cell: (r) => fmt(r.ceiling) },
  {
    title: "of ceil.",
    cell: (r) => (r.fractionOfCeiling === undefined ? "" : `${(100 * r.fractionOfCeiling).toFixed(0)}%`),
  },
  { title: "peer", cell: (r) => r.peer ?? "", left: true },
  { title: "peer median", cell: (r) => fmt(r.peerValue) },
  { title: "ratio", cell: (r) => (r.ratio === undefined ? "" : `${fmt(r.ratio)}x`) },
  { title: "goal", cell: (r) => (r.goal === undefined ? "" : `${r.goal} ${r.goalMet ? "ok" : "MISSED"}`), left: true },
];

/** A plain-text table of the rows; groups (lists of rows) are separated by a blank line. */
export function formatTable(groups: Row[][]): string {
  const rows = groups.flat();
  const cells = rows.map((r) => COLUMNS.map((c) => c.cell(r)));
  const used = COLUMNS.map((_, j) => cells.some((row) => row[j] !== ""));
  const widths = COLUMNS.map((c, j) => Math.max(c.title.length, ...cells.map((row) => row[j].length)));
  const line = (values: string[]) =>
    values
      .map((v, j) => (used[j] ? (COLUMNS[j].left ? v.padEnd(widths[j]) : v.padStart(widths[j])) : null))
      .filter((v) => v !== null)
      .join("  ")
      .trimEnd();
  const out = [line(COLUMNS.map((c) => c.title)), line(widths.map((w) => "-".repeat(w)))];
  let i = 0;
  groups.forEach((g, k) => {
    if (k > 0 && g.length > 0) out.push("");
    for (const _ of g) out.push(line(cells[i++]));
  });
  const notes = rows.filter((r) => r.note).map((r) => `  ${r.name}: ${r.note}`);
  return [...out, ...(notes.length ? ["", "notes:", ...notes] : [])].join("\n");
}

export function writeJson(file: string, rows: Row[]): void {
  writeFileSync(file, `${JSON.stringify(rows, null, 2)}\n`);
}

/** Writes the rows to `json` (when given) and lists the problems on stderr; the exit code: 1 with problems, else 0. */
export function finishReport(groups: Row[][], problems: string[], json: string | null): number {
  if (json) {
    writeJson(json, groups.flat());
    console.log(`wrote ${json}`);
  }
  if (problems.length) {
    console.error(`\n${problems.length} problem(s):\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    return 1;
  }
  return 0;
}
