/**
 * The structured logger every layer accepts (pino-compatible) and the silent default. It sits at
 * the top of `src/` beside `errors.ts` so the core, identity and the edge share it without
 * importing each other.
 */

/** Minimal structured logger (pino-compatible); Orchard never logs secrets. */
export interface Logger {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** A logger that drops everything (the default). */
export const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};
