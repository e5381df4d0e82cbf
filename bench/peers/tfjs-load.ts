import type * as TF from "@tensorflow/tfjs";
import { PeerUnavailable } from "../runner.js";

/**
 * tfjs's backends the peers use: "cpu" (plain JavaScript, in @tensorflow/tfjs) and "wasm"
 * (XNNPACK; importing @tensorflow/tfjs-backend-wasm registers it).
 */
const BACKENDS = {
  cpu: { packages: ["@tensorflow/tfjs"], register: async () => {} },
  wasm: {
    packages: ["@tensorflow/tfjs", "@tensorflow/tfjs-backend-wasm"],
    register: async () => {
      await import("@tensorflow/tfjs-backend-wasm");
    },
  },
} as const;

/** Loads tfjs with `backend` selected; throws PeerUnavailable (peer "tfjs-cpu" / "tfjs-wasm") when it is not installed. */
export async function loadTfjs(backend: keyof typeof BACKENDS): Promise<typeof TF> {
  const { packages, register } = BACKENDS[backend];
  const peer = `tfjs-${backend}`;
  let tf: typeof TF;
  try {
    tf = await import("@tensorflow/tfjs");
    await register();
  } catch (e) {
    throw new PeerUnavailable(
      peer,
      `cannot load ${packages[packages.length - 1]}: ${String(e)}`,
      `npm install --save-dev ${packages.join(" ")}`,
    );
  }
  if (!(await tf.setBackend(backend))) throw new PeerUnavailable(peer, `tf.setBackend('${backend}') failed`);
  await tf.ready();
  return tf;
}
