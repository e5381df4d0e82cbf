/** The error a call throws, checked for its class (shared by the tests of the file readers). */
import { expect } from "vitest";

/** Runs `fn` and returns the error it throws, asserted to be a `type` (fails the test when nothing is thrown). */
export function thrownBy<E extends Error>(type: abstract new (...args: never[]) => E, fn: () => unknown): E {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(type);
    return e as E;
  }
  throw new Error(`expected a ${type.name}, but nothing was thrown`);
}
