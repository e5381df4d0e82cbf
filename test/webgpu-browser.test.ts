/**
 * The webgpu backend in a real browser: Debian's Chromium, headless, driven by playwright-core,
 * where navigator.gpu is SwiftShader (a CPU adapter). The page imports the built ES modules
 * (dist/, which `npm test` builds first) from a local static server and checks a few kernels
 * against the reference backend in the page (test/browser/webgpu-checks.js) - the browser path of the backend (navigator.gpu,
 * no Node.js package) rather than its arithmetic, which webgpu-conformance covers in full.
 * Skipped, with the reason, where Chromium or the build is missing.
 */
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { extname, join, normalize } from "node:path";
import { chromium, type Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { words } from "./cli-helpers.js";

const ROOT = new URL("..", import.meta.url).pathname;
const CHROMIUM = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find(existsSync);
const BUILT = existsSync(join(ROOT, "dist/src/backends/webgpu/index.js"));
const SKIP = !CHROMIUM
  ? "Chromium not found (apt-get install -y --no-install-recommends chromium)"
  : !BUILT
    ? "dist/ not built (npm run build)"
    : "";

/** Serves the repository's files (the built modules) and an empty page at /. */
function serve(): Promise<Server> {
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? "/", "http://localhost").pathname);
    if (path === "/") {
      res.writeHead(200, { "content-type": "text/html" }).end("<!doctype html><title>webgpu checks</title>");
      return;
    }
    const file = normalize(join(ROOT, path));
    if (!file.startsWith(ROOT)) {
      res.writeHead(403).end();
      return;
    }
    readFile(file).then(
      (body) =>
        res
          .writeHead(200, { "content-type": extname(file) === ".js" ? "text/javascript" : "application/octet-stream" })
          .end(body),
      () => res.writeHead(404).end(),
    );
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

(SKIP ? describe.skip : describe)(
  `webgpu backend in Chromium (navigator.gpu)${SKIP ? ` [skipped: ${SKIP}]` : ""}`,
  () => {
    let server: Server;
    let browser: Browser;

    beforeAll(async () => {
      server = await serve();
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        headless: true,
        args: words(
          "--no-sandbox --enable-unsafe-webgpu --disable-background-networking --disable-default-apps --disable-extensions --no-first-run",
        ),
      });
    }, 60_000);

    afterAll(async () => {
      await browser?.close();
      await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    });

    it("runs matmul, stochastic binarize, dropout, batch norm, conv2d and maxPoolBackward as the reference does", async () => {
      const page = await browser.newPage();
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      await page.goto(`${base}/`);
      expect(
        await page.evaluate(() => "gpu" in navigator),
        "navigator.gpu is missing: Chromium needs --enable-unsafe-webgpu",
      ).toBe(true);
      // the checks are a plain ES module served as is (test/browser/webgpu-checks.js)
      const out = (await page.evaluate(`import("/test/browser/webgpu-checks.js").then((m) => m.runChecks(""))`)) as {
        description: string;
        excess: Record<string, number>;
      };
      expect(out.description).toMatch(/^webgpu \(/);
      const failed = Object.entries(out.excess).filter(([, e]) => !(e <= 0));
      expect(failed, `on ${out.description}`).toEqual([]);
      expect(Object.keys(out.excess)).toHaveLength(7);
    }, 120_000);
  },
);
