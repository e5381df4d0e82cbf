/**
 * bench/gpu-stages.sh, the GPU suite in time-limited stages, run with a stand-in `node` first on
 * PATH that records each stage's arguments and sleeps as long as its stage's STUB_SLEEP_<stage>
 * says: every stage writes its report, a stage past its limit is stopped (exit code 124) and
 * the next still runs, and the full-size epoch runs only when the budget leaves a minute.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const SCRIPT = join(import.meta.dirname, "..", "bench", "gpu-stages.sh");

/** Runs the script with the stand-in node; returns the output folder's files (name -> text). */
function runStages(budgetSeconds: number, sleeps: Record<string, number>): Record<string, string> {
  const bin = mkdtempSync(join(tmpdir(), "bc-stages-bin-"));
  const out = mkdtempSync(join(tmpdir(), "bc-stages-out-"));
  // the stand-in: prints its arguments, writes the --json file, sleeps STUB_SLEEP_<n> seconds (n: the JSON file's stage number)
  writeFileSync(
    join(bin, "node"),
    `#!/usr/bin/env bash
json=""; prev=""
for a in "$@"; do [ "$prev" = "--json" ] && json=$a; prev=$a; done
echo "args: $*"
n=$(basename "$json" | cut -c1)
echo '[]' > "$json"
var="STUB_SLEEP_$n"; sleep "\${!var:-0}"
echo "report done"
`,
  );
  chmodSync(join(bin, "node"), 0o755);
  const env: Record<string, string> = { ...process.env, PATH: `${bin}:${process.env.PATH}` } as Record<string, string>;
  for (const [stage, seconds] of Object.entries(sleeps)) env[`STUB_SLEEP_${stage}`] = String(seconds);
  const r = spawnSync("bash", [SCRIPT, out, String(budgetSeconds)], { env, encoding: "utf8" });
  expect(r.status, r.stderr).toBe(0);
  return Object.fromEntries(readdirSync(out).map((f) => [f, readFileSync(join(out, f), "utf8")]));
}

describe("bench/gpu-stages.sh", () => {
  it("runs the four stages in order, each with its own report, JSON and exit code", () => {
    const files = runStages(480, {});
    expect(Object.keys(files).sort()).toEqual([
      "1-matmul.json",
      "1-matmul.txt",
      "2-mlp-epoch.json",
      "2-mlp-epoch.txt",
      "3-cnn-epoch-5k.json",
      "3-cnn-epoch-5k.txt",
      "4-cnn-epoch-50k.json",
      "4-cnn-epoch-50k.txt",
    ]);
    expect(files["1-matmul.txt"]).toMatch(/^commit .*\n.*\ncpus: \d+\n/);
    expect(files["1-matmul.txt"]).toContain("--backend webgpu --json");
    expect(files["1-matmul.txt"]).toContain("--only matmul,torch");
    expect(files["3-cnn-epoch-5k.txt"]).toContain("--only cnn-step,torch --epoch-images 5000 --runs 3");
    expect(files["4-cnn-epoch-50k.txt"]).toContain("--only cnn-step,torch --runs 1");
    for (const name of ["1-matmul", "2-mlp-epoch", "3-cnn-epoch-5k", "4-cnn-epoch-50k"])
      expect(files[`${name}.txt`]).toMatch(new RegExp(`report done\\n== ${name}: exit code 0 at \\d+ s\\n$`));
  });

  it("stops a stage at its limit and goes on; leaves out the full epoch when a minute is not left", () => {
    // a budget of 16 s: limits of 5, 3 and 5 s; stage 2 would sleep 30 s
    const files = runStages(16, { 2: 30 });
    // the machine's header (a Python import of torch) may take a second or more before stage 1
    expect(files["1-matmul.txt"]).toMatch(/== 1-matmul: start at \d+ s, limit 5 s\n/);
    expect(files["2-mlp-epoch.txt"]).toContain("limit 3 s");
    expect(files["2-mlp-epoch.txt"]).not.toContain("report done");
    expect(files["2-mlp-epoch.txt"]).toMatch(/== 2-mlp-epoch: exit code 124 at \d+ s\n$/);
    expect(files["3-cnn-epoch-5k.txt"]).toContain("report done");
    expect(Object.keys(files)).not.toContain("4-cnn-epoch-50k.txt");
  }, 20_000);
});
