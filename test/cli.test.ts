/** The command line (the built CLI in dist/, which `npm test` builds first). */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { PRESETS } from "../src/train/presets.js";
import { CLI, words } from "./cli-helpers.js";

const run = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8" });
/** Help text with its line wrapping undone. */
const help = (...args: string[]) => run(...args, "--help").stdout.replace(/\s+/g, " ");

describe("binaryconnect CLI", () => {
  it("train --help lists every option with its default", () => {
    const text = help("train");
    for (const opt of words(
      "--preset --mode --dropout --epochs --seed --backend --threads --simd --out --resume --data --test-time",
    )) {
      expect(text).toContain(opt);
    }
    expect(text).toContain('(default: "mnist-quick")');
    expect(text).toContain('(default: "det")');
    expect(text).toContain('(default: "auto")');
    expect(text).toContain("(default: 1)");
  });

  it("eval and summary have help too", () => {
    expect(help("eval")).toContain(
      '--which <model> best (the best validation epoch) or last (the last checkpoint) (default: "best")',
    );
    expect(help("summary")).toContain('(default: "mnist-quick")');
  });

  it("an unknown option is an error that suggests the closest one", () => {
    const r = run("train", "--epoch", "3");
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain("unknown option '--epoch'");
    expect(r.stderr).toContain("Did you mean --epochs?");
  });

  it("a bad value is an error that names the option, what was expected and the closest valid value", () => {
    const mode = run("train", "--mode", "stochastic");
    expect(mode.status).not.toBe(0);
    expect(mode.stderr).toMatch(
      /--mode <mode>.*expected one of none, det, stoch, found "stochastic" \(did you mean "stoch"\?\)/,
    );
    const preset = run("summary", "--preset", "mnist-quik");
    expect(preset.stderr).toContain('did you mean "mnist-quick"');
    const epochs = run("train", "--epochs", "-2");
    expect(epochs.stderr).toContain('expected an integer >= 1, found "-2"');
    const tt = run("train", "--test-time", "ensemble:0");
    expect(tt.stderr).toContain("expected binary, real or ensemble:N");
    const simd = run("eval", "somewhere", "--simd", "relax");
    expect(simd.stderr).toMatch(
      /--simd <mode>.*expected one of auto, relaxed, baseline, found "relax" \(did you mean "relaxed"\?\)/,
    );
  });

  it("an unknown command is an error with a suggestion", () => {
    const r = run("trian");
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain("Did you mean train?");
  });

  it("summary gives the paper's 2,910,208 binary weights and the compression", () => {
    const r = run("summary", "--preset", "mnist-paper");
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/total\s+2916372\s+2910208\s+11\.125 MiB\s+0\.370 MiB/);
    expect(r.stdout).toContain("30.0x smaller");
    const none = run("summary", "--mode", "none");
    expect(none.stdout).toMatch(/total\s+2916372\s+0\s+/);
  });

  it("train --architecture trains a CNN on MNIST that export writes as .bcnet and ONNX", () => {
    const out = mkdtempSync(join(tmpdir(), "bc-cli-cnn-"));
    try {
      const arch = "(2x4C3)-MP2-8C3-MP2-16FC-10";
      const t = run(
        "train",
        "--architecture",
        arch,
        "--epochs",
        "1",
        "--train-size",
        "300",
        "--val-size",
        "100",
        "--test-size",
        "100",
        "--threads",
        "1",
        "--simd",
        "baseline",
        "--out",
        out,
      );
      expect(t.status, t.stderr).toBe(0);
      expect(t.stdout).toContain(`(det, ${arch})`);
      expect(t.stdout).toContain("on wasm (SIMD128, 1 thread)"); // --simd baseline
      expect(JSON.parse(readFileSync(join(out, "config.json"), "utf8"))).toMatchObject({
        architecture: arch,
        hidden: [],
      });
      const bcnet = run("export", out);
      expect(bcnet.status, bcnet.stderr).toBe(0);
      expect(bcnet.stdout).toContain("28x28x1-4C3-4C3-MP2-8C3-MP2-16FC-10");
      const onnx = run("export", out, "--format", "onnx");
      expect(onnx.status, onnx.stderr).toBe(0);
      expect(onnx.stdout).toContain(`28x28x1-${arch}`);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it("train --architecture of dense layers only trains the MLP of those widths, with --dropout", () => {
    const out = mkdtempSync(join(tmpdir(), "bc-cli-wide-"));
    try {
      const t = run(
        ...words("train --preset mnist-lasagne --architecture (2x16FC)-10 --dropout --epochs 1"),
        ...words("--train-size 300 --val-size 100 --test-size 100 --threads 1 --out"),
        out,
      );
      expect(t.status, t.stderr).toBe(0);
      expect(t.stdout).toContain("(det, 16-16)");
      const config = JSON.parse(readFileSync(join(out, "config.json"), "utf8"));
      expect(config).toMatchObject({ hidden: [16, 16], dropout: { input: 0.2, hidden: 0.5 }, batchSize: 100 });
      expect(config.architecture).toBeUndefined();
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it("train --dropout with a network that has convolutions is refused, naming the network", () => {
    const r = run(...words("train --architecture (2x4C3)-MP2-16FC-10 --dropout --epochs 1 --train-size 300"));
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(
      "--dropout is defined for MLPs (dense layers only); the network (2x4C3)-MP2-16FC-10 (preset mnist-quick) has other layers",
    );
  });

  it("a bad --architecture is refused before any data is loaded, with the notation's rules", () => {
    const r = run("train", "--architecture", "(2x8C3)-MP2-16F");
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('cannot read "16F": expected NCK');
    expect(r.stdout, "refused while parsing the flags, before the data is loaded").not.toContain("data:");
  });

  it("every preset's network builds (summary), each with binary weights", () => {
    expect(Object.keys(PRESETS).length).toBeGreaterThanOrEqual(7);
    for (const preset of Object.keys(PRESETS)) {
      const r = run("summary", "--preset", preset);
      expect(r.status, `${preset}: ${r.stderr}`).toBe(0);
      expect(r.stdout, preset).toMatch(/compression: \d+\.\dx smaller with 1-bit weights/);
    }
  });

  it("eval of a folder without a model says what is missing", () => {
    const r = run("eval", "/nonexistent-run");
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("no checkpoint at /nonexistent-run/best.bin");
  });

  it("eval of a run stopped before its first epoch ended points at its last checkpoint", () => {
    const dir = mkdtempSync(join(tmpdir(), "bc-cli-eval-"));
    writeFileSync(join(dir, "checkpoint.bin"), "");
    const r = run("eval", dir);
    rmSync(dir, { recursive: true, force: true });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(
      /no checkpoint at .*best\.bin\n {2}hint: the folder has no best\.bin .*--which last evaluates/,
    );
  });

  it("export and train --resume of a folder that is not a run say what it is, and how to go on", () => {
    const dir = mkdtempSync(join(tmpdir(), "bc-cli-resume-"));
    writeFileSync(join(dir, "checkpoint.bin"), "");
    const exported = run("export", dir);
    expect(exported.stderr).toMatch(/no checkpoint at .*best\.bin\n {2}hint: .*--which last reads/);
    rmSync(join(dir, "checkpoint.bin"));
    writeFileSync(join(dir, "config.json"), "{}");
    const stopped = run("train", "--resume", dir);
    expect(stopped.stderr).toMatch(
      /no checkpoint\.bin in that folder\n {2}hint: the run in it stopped before its first checkpoint .*--out /,
    );
    writeFileSync(join(dir, "a-file"), "");
    expect(run("train", "--resume", join(dir, "a-file")).stderr).toContain("a file, not a run folder");
    expect(run("train", "--resume", join(dir, "nothing")).stderr).toContain("no such folder");
    rmSync(dir, { recursive: true, force: true });
  });

  it("summary of a network without binary layers says that it does not compress", () => {
    const r = run("summary", "--preset", "mnist-quick", "--mode", "none");
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain("compression: none (no binary layers: the weights stay float32)");
  });
});
