/**
 * The browser demo in real Chromium (Debian's chromium, driven by playwright-core): build the
 * page with Vite, serve it, draw digits with mouse moves, check the predictions and save a
 * screenshot (runs/demo-screenshot.png).
 */
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { build, preview, type PreviewServer } from "vite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mnistLike } from "../demo/preprocess.js";

const ROOT = new URL("..", import.meta.url).pathname;
const CONFIG = join(ROOT, "demo/vite.config.ts");
/** Debian's chromium (apt-get install chromium; .ci/run installs it). */
const CHROMIUM = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find(existsSync);

describe("demo: MNIST-like preprocessing of a drawing", () => {
  it("fits the ink in a 20 x 20 box centred by its centre of mass in 28 x 28", () => {
    const size = 100,
      gray = new Uint8Array(size * size);
    for (let y = 10; y < 90; y++) for (let x = 60; x < 70; x++) gray[y * size + x] = 255; // a tall bar, off-centre
    const out = mnistLike(gray, size)!;
    const rows = [...Array(28).keys()].filter((y) => out.slice(y * 28, y * 28 + 28).some((v) => v > 0));
    const cols = [...Array(28).keys()].filter((x) => rows.some((y) => out[y * 28 + x] > 0));
    expect(rows.length).toBe(20);
    expect(cols.length).toBeLessThanOrEqual(4);
    expect(Math.abs((rows[0] + rows.at(-1)!) / 2 - 13.5)).toBeLessThanOrEqual(1);
    expect(Math.abs((cols[0] + cols.at(-1)!) / 2 - 13.5)).toBeLessThanOrEqual(1);
    expect(mnistLike(new Uint8Array(size * size), size)).toBeNull();
  });
});

describe("demo page in Chromium", () => {
  let server: PreviewServer;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    if (!CHROMIUM) throw new Error("Chromium not found: apt-get install -y --no-install-recommends chromium");
    await build({ configFile: CONFIG, logLevel: "error" });
    server = await preview({ configFile: CONFIG, logLevel: "error", preview: { port: 0, host: "127.0.0.1" } });
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox"] });
    page = await browser.newPage({ viewport: { width: 800, height: 720 } });
    const url = server.resolvedUrls!.local[0];
    await page.goto(url);
    await page.waitForSelector("body[data-ready='1']", { timeout: 20_000 });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await new Promise<void>((resolve) => (server ? server.httpServer.close(() => resolve()) : resolve()));
  });

  /** Draws a stroke through canvas points (0..280) with the mouse. */
  async function stroke(points: [number, number][]): Promise<void> {
    const box = (await page.locator("#pad").boundingBox())!;
    const to = ([x, y]: [number, number]) => [box.x + (x * box.width) / 280, box.y + (y * box.height) / 280] as const;
    await page.mouse.move(...to(points[0]));
    await page.mouse.down();
    for (const p of points.slice(1)) await page.mouse.move(...to(p), { steps: 4 });
    await page.mouse.up();
  }

  async function label(): Promise<string> {
    await page.waitForSelector("#label[data-label]");
    return (await page.locator("#label").getAttribute("data-label"))!;
  }

  it("shows the model's size next to its float32 size", async () => {
    expect(await page.locator("#size").textContent()).toMatch(/^[\d,]+ bytes \(0\.3\d\d MiB\), 784-1024-1024-1024-10$/);
    expect(await page.locator("#float").textContent()).toMatch(/^11\.1\d\d MiB as float32: 29\.\dx larger$/);
    expect(await page.locator("#provenance").textContent()).toContain("WebAssembly SIMD");
  });

  it("reads a drawn 1 and a drawn 0, with 10 per-class scores and the inference time", async () => {
    await stroke([
      [140, 40],
      [138, 120],
      [136, 240],
    ]);
    expect(await label()).toBe("1");
    expect(await page.locator("#bars .bar").count()).toBe(10);
    expect(await page.locator("#time").textContent()).toMatch(/^\d+\.\d\d ms for this drawing/);
    await page.click("#clear");
    expect(await page.locator("#label").textContent()).toBe("?");
    const ellipse = Array.from({ length: 41 }, (_, i): [number, number] => [
      140 + 70 * Math.sin((i / 40) * 2 * Math.PI),
      140 - 100 * Math.cos((i / 40) * 2 * Math.PI),
    ]);
    await stroke(ellipse);
    expect(await label()).toBe("0");
    mkdirSync(join(ROOT, "runs"), { recursive: true });
    await page.screenshot({ path: join(ROOT, "runs/demo-screenshot.png") });
  });
});
