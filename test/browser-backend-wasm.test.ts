/**
 * The wasm backend in a web page, in real Chromium (Debian's chromium, headless, driven by
 * playwright-core): test/browser/wasm-page is bundled by Vite (the backend's TypeScript sources,
 * as an application would bundle the library) and served twice from a local server: under
 * /plain/ without headers (not cross-origin isolated: one thread, no workers, an unshared
 * memory) and under /isolated/ with Cross-Origin-Opener-Policy: same-origin and
 * Cross-Origin-Embedder-Policy: require-corp (crossOriginIsolated: Web Workers on a shared
 * memory). The page runs the calls of test/browser/wasm-cases.ts (matmul, binaryMatmul on its
 * lookup tables, adam, conv2d: each big enough to be split across two threads) and returns
 * every tensor; here they are checked against the reference backend (|wasm - ref| <= atol +
 * rtol |ref|, the tolerances of test/wasm-conformance.test.ts) and, for the baseline SIMD128
 * build (the same bits on every engine), against the wasm backend in Node.js bit for bit.
 * Fails (does not skip) where Chromium is missing.
 */
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { extname, join, normalize, sep } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { build, type Logger } from "vite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ReferenceBackend } from "../src/backends/reference/index.js";
import { WasmBackend, type WasmBackendOptions } from "../src/backends/wasm/index.js";
import { BROWSER_CASES, runCases, type Tolerance } from "./browser/wasm-cases.js";
import type { PageResult } from "./browser/wasm-page/main.js";

const ROOT = new URL("..", import.meta.url).pathname;
const PAGE = join(ROOT, "test/browser/wasm-page");
const CHROMIUM = "/usr/bin/chromium";
const ISOLATION_HEADERS = {
  "cross-origin-opener-policy": "same-origin",
  "cross-origin-embedder-policy": "require-corp",
  "cross-origin-resource-policy": "same-origin",
};

type Results = Array<Record<string, Float32Array>>;

/** Serves `dir` under /plain/ (no headers) and /isolated/ (the cross-origin isolation headers). */
function serve(dir: string): Promise<Server> {
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? "/", "http://localhost").pathname);
    const m = /^\/(plain|isolated)(\/.*)$/.exec(path);
    const file = m ? normalize(join(dir, m[2] === "/" ? "index.html" : m[2])) : "";
    if (!m || !file.startsWith(dir + sep)) {
      res.writeHead(404).end();
      return;
    }
    const headers = {
      "content-type": extname(file) === ".html" ? "text/html" : "text/javascript",
      ...(m[1] === "isolated" ? ISOLATION_HEADERS : {}),
    };
    readFile(file).then(
      (body) => res.writeHead(200, headers).end(body),
      () => res.writeHead(404).end(),
    );
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

/** Elementwise |actual - expected| <= atol + rtol |expected| (Object.is when both are 0: bit for bit); the worst offenders as text. */
function mismatches(actual: Results, expected: Results, tolOf: (i: number) => Tolerance, who: string): string[] {
  const bad: string[] = [];
  BROWSER_CASES.forEach((c, i) => {
    const { atol, rtol } = tolOf(i);
    for (const [name, want] of Object.entries(expected[i])) {
      const got = actual[i][name];
      if (got.length !== want.length) {
        bad.push(`${c.label}: ${name} has ${got.length} values, expected ${want.length}`);
        continue;
      }
      let count = 0,
        first = "";
      for (let j = 0; j < want.length; j++) {
        const a = got[j],
          e = want[j];
        const ok = Object.is(a, e) || (!(atol === 0 && rtol === 0) && Math.abs(a - e) <= atol + rtol * Math.abs(e));
        if (!ok && count++ === 0) first = `${name}[${j}]: ${who} ${a}, expected ${e}`;
      }
      if (count > 0)
        bad.push(`${c.label}: ${count} of ${want.length} values of ${name} out of tolerance, first ${first}`);
    }
  });
  return bad;
}

const BIT_EXACT = (): Tolerance => ({ atol: 0, rtol: 0 });
const REFERENCE_TOL = (i: number): Tolerance => BROWSER_CASES[i].tol;

function decode(result: Extract<PageResult, { ok: true }>): Results {
  return result.results.map((r) =>
    Object.fromEntries(
      Object.entries(r).map(([k, b64]) => {
        const bytes = Buffer.from(b64, "base64");
        return [k, new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength))];
      }),
    ),
  );
}

describe("wasm backend in a web page (Chromium)", () => {
  let outDir: string;
  let warnings: string[];
  let server: Server;
  let browser: Browser;
  let reference: Results;
  const nodeWasm = new Map<string, Results>();

  /** The cases on the wasm backend in Node.js with these options (computed once). */
  async function inNode(options: WasmBackendOptions): Promise<Results> {
    const key = JSON.stringify(options);
    if (!nodeWasm.has(key)) {
      const be = await WasmBackend.create(options);
      try {
        nodeWasm.set(key, await runCases(be));
      } finally {
        await be.close();
      }
    }
    return nodeWasm.get(key)!;
  }

  beforeAll(async () => {
    if (!existsSync(CHROMIUM))
      throw new Error(`Chromium not found at ${CHROMIUM}: apt-get install -y --no-install-recommends chromium`);
    outDir = await mkdtemp(join(tmpdir(), "binaryconnect-wasm-page-"));
    warnings = [];
    const logger: Logger = {
      info() {},
      warn: (m) => warnings.push(m),
      warnOnce: (m) => warnings.push(m),
      error: (m) => warnings.push(m),
      clearScreen() {},
      hasErrorLogged: () => false,
      hasWarned: false,
    };
    await build({
      configFile: false,
      root: PAGE,
      base: "./",
      customLogger: logger,
      build: { outDir, emptyOutDir: true, target: "es2022" },
    });
    server = await serve(outDir);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox", "--headless"] });
    reference = await runCases(new ReferenceBackend());
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    if (outDir) await rm(outDir, { recursive: true, force: true });
  });

  async function open(where: "plain" | "isolated"): Promise<Page> {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/${where}/`);
    await page.waitForSelector("body[data-ready='1']", { state: "attached", timeout: 20_000 }).catch((e: Error) => {
      throw new Error(`the page did not load: ${errors.join("; ") || e.message}`);
    });
    return page;
  }

  /** Runs `body` on a new page served under /`where`/, closing the page afterwards. */
  async function onPage(where: "plain" | "isolated", body: (page: Page) => Promise<void>): Promise<void> {
    const page = await open(where);
    try {
      await body(page);
    } finally {
      await page.close();
    }
  }

  /** crossOriginIsolated and a SharedArrayBuffer in the page: both or neither. */
  async function expectIsolation(page: Page, isolated: boolean): Promise<void> {
    expect(await page.evaluate(() => [globalThis.crossOriginIsolated, typeof SharedArrayBuffer])).toEqual(
      isolated ? [true, "function"] : [false, "undefined"],
    );
  }

  const checks = (page: Page, options: WasmBackendOptions) => page.evaluate((o) => window.wasmChecks(o), options);

  /** Runs the cases in the page; expects success, the reference's numbers and (baseline) Node's bits. */
  async function expectSameNumbers(
    page: Page,
    options: WasmBackendOptions,
    isolated: boolean,
    threads: number,
  ): Promise<string> {
    const out = await checks(page, options);
    expect(out.crossOriginIsolated).toBe(isolated);
    if (!out.ok) throw new Error(`the page failed: ${out.error.name}: ${out.error.message}`);
    expect(out.threads).toBe(threads);
    expect(out.description).toMatch(new RegExp(`, ${threads} threads?\\)$`));
    const got = decode(out);
    expect(mismatches(got, reference, REFERENCE_TOL, out.description), "against the reference backend").toEqual([]);
    if (out.simd === "baseline") {
      const node = await inNode({ threads, simd: "baseline" });
      expect(
        mismatches(got, node, BIT_EXACT, out.description),
        "against the wasm backend in Node.js, bit for bit",
      ).toEqual([]);
    }
    return out.description;
  }

  it("is bundled by Vite without a Node.js module (no warning, no browser stub, no static node: import)", async () => {
    expect(warnings).toEqual([]);
    const { readdir } = await import("node:fs/promises");
    const files = (await readdir(join(outDir, "assets"))).filter((f) => f.endsWith(".js"));
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) {
      const js = await readFile(join(outDir, "assets", f), "utf8");
      expect(js).toContain("WasmBackend.create"); // the bundle is the backend (its error messages name the call)
      expect(js).not.toContain("__vite-browser-external");
      expect(js).not.toMatch(
        /\bfrom\s*["']node:|\bimport\s*["']node:|\bimport\s*\(\s*["']node:|\brequire\s*\(\s*["']node:(os|v8)/,
      );
    }
  });

  it("in a page that is not cross-origin isolated: one thread, no workers, an unshared memory; the reference's numbers and Node's bits", async () => {
    await onPage("plain", async (page) => {
      await expectIsolation(page, false);
      const description = await expectSameNumbers(page, {}, false, 1);
      expect(description).toMatch(/^wasm \(SIMD128( \+ relaxed FMA)?, 1 thread\)$/);
      await expectSameNumbers(page, { simd: "baseline" }, false, 1);
    });
  });

  it("in a page that is not cross-origin isolated: threads: 2 is refused with a BackendError that names the headers", async () => {
    await onPage("plain", async (page) => {
      const out = await checks(page, { threads: 2 });
      expect(out.ok).toBe(false);
      if (out.ok) return;
      expect(out.error.backendError, `${out.error.name}: ${out.error.message}`).toBe(true); // (a minifier renames the class: not its name)
      expect(out.error.message).toMatch(
        /2 threads need workers on a shared memory, but the page is not cross-origin isolated/,
      );
      expect(out.error.message).toMatch(
        /Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp/,
      );
      expect(out.error.message).toMatch(/reference backend/);
    });
  });

  it("in a cross-origin isolated page: two threads (a Web Worker on the shared memory); the reference's numbers and Node's bits", async () => {
    await onPage("isolated", async (page) => {
      await expectIsolation(page, true);
      await expectSameNumbers(page, { threads: 2 }, true, 2);
      await expectSameNumbers(page, { threads: 2, simd: "baseline" }, true, 2);
    });
  });

  it("in a cross-origin isolated page: threads default to navigator.hardwareConcurrency", async () => {
    await onPage("isolated", async (page) => {
      const cores = await page.evaluate(() => navigator.hardwareConcurrency);
      await expectSameNumbers(page, { simd: "baseline" }, true, Math.max(1, Math.min(64, cores)));
    });
  });

  it("the comparison fails on a wrong value (one changed by more than the tolerance, or by one bit where exact)", () => {
    const nudged = reference.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v.slice()])));
    const out = nudged[0].out; // matmul: tolerance 2e-6 K + 1e-5 |ref|
    out[5] += 3 * (REFERENCE_TOL(0).atol + REFERENCE_TOL(0).rtol * Math.abs(out[5]));
    const param = nudged[3].param; // adam: exact
    const bits = new Uint32Array(param.buffer, param.byteOffset, param.length);
    bits[7] ^= 1;
    const bad = mismatches(nudged, reference, REFERENCE_TOL, "nudged");
    expect(bad).toHaveLength(2);
    expect(bad[0]).toMatch(/^matmul 130x300x700 A\.B: 1 of 91000 values of out/);
    expect(bad[1]).toMatch(/^adam n=524291 .*: 1 of 524291 values of param/);
  });
});
