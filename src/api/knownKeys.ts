import { OptionError } from "../core/errors.js";

/**
 * Throws an OptionError on a key of `opts` that is not in `keys` (a misspelt option would
 * otherwise be ignored), naming the call (`what`) and listing the known options, except the
 * `hidden` ones (the engine's and the tests' own).
 */
export function checkKnownKeys(
  what: string,
  opts: object,
  keys: readonly string[],
  hidden: readonly string[] = [],
): void {
  for (const key of Object.keys(opts))
    if (!keys.includes(key))
      throw new OptionError(
        `${what}: unknown option "${key}"`,
        `known options: ${keys.filter((k) => !hidden.includes(k)).join(", ")}`,
      );
}
