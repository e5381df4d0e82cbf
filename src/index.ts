/**
 * binaryconnect for Node.js: train binary-weight networks (BinaryConnect, Courbariaux, Bengio &
 * David, NeurIPS 2015) from code, on any data, and deploy them.
 *
 *   import * as bc from "binaryconnect";
 *   const { train, test } = await bc.data.loadMnist();
 *   const model = bc.sequential({ inputShape: [28, 28, 1], layers: [bc.layers.flatten(), bc.layers.dense({ units: 256 }), ...] });
 *   await model.fit(train, { epochs: 5, validation: 1 / 6, preprocess: [bc.preprocess.scale(1 / 255), bc.preprocess.subtractMean()] });
 *
 * Browsers get the same API without the file loaders (package export condition "browser": src/browser.ts).
 */
import "./api/node.js";

export * from "./library.js";
export * as data from "./api/dataNode.js";
