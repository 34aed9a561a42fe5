/**
 * What every `orchard` subcommand shares about its input and its problems: files named on the
 * command line, passwords (from a file or an `ORCHARD_*` variable, not only a flag that `ps`
 * shows), signed inputs, and the one way a problem is printed, `orchard <cmd>: <problem>`, with
 * exit code 1 for the input and 2 for misuse (then followed by a hint to `--help`).
 */
import { createPrivateKey, type KeyObject } from 'node:crypto';
import { readFileSync, writeFileSync, type WriteFileOptions } from 'node:fs';
import type { Command } from 'commander';
import { OrchardError, OrchardStartupError, ProfileError } from '../index.js';
import { EXIT_INPUT, EXIT_USAGE } from './exit-codes.js';

/** A problem with the user's input (a file, a password, a signed profile): one line, exit 1. */
export class InputProblem extends Error {}

/** Misuse of a command (a missing, bad or conflicting option): one line, a hint, exit 2. */
export class UsageProblem extends Error {}

/** The command as typed, e.g. `orchard profile sign` for the `sign` command under `profile`. */
export function commandPath(command: Command): string {
  const names: string[] = [];
  for (let c: Command | null = command; c !== null; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/** The two lines of a usage problem: `orchard <cmd>: <problem>`, then `Try 'orchard <cmd> --help'.` */
export function usageLines(command: Command, problem: string): string {
  const path = commandPath(command);
  return `${path}: ${problem}\nTry '${path} --help'.\n`;
}

/** The code of a failed system call (`ENOENT`, `EACCES`), or `error` when there is none. */
export function errnoCode(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : 'error';
}

/** Reads a whole file. Throws {@link InputProblem} `cannot read PATH (ENOENT)` when it cannot. */
export function readInputFile(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new InputProblem(`cannot read ${path} (${errnoCode(error)})`);
  }
}

/**
 * Writes `data` to `path`, or to standard output when `path` is `-`. Throws
 * {@link InputProblem} `cannot write PATH (EEXIST)` when it cannot.
 */
export function writeOutputFile(
  path: string,
  data: Uint8Array | string,
  options?: WriteFileOptions,
): void {
  if (path === '-') {
    process.stdout.write(data);
    return;
  }
  try {
    writeFileSync(path, data, options);
  } catch (error) {
    throw new InputProblem(`cannot write ${path} (${errnoCode(error)})`);
  }
}

/**
 * The flags and the variable one password may come from. A `--…-password` flag shows in `ps`, so
 * each password can also be read from a file (`--…-password-file`) or from the environment.
 */
export interface PasswordSource {
  /** The flag carrying the password itself, e.g. `--password`; absent when there is none. */
  flag?: string;
  /** The flag naming a file holding the password (one trailing newline dropped), e.g. `--password-file`. */
  fileFlag: string;
  /** The environment variable, e.g. `ORCHARD_PUSH_P12_PASSWORD`. */
  env: string;
}

/**
 * The password from the flag, else the file (one trailing newline dropped), else the variable;
 * `undefined` when none is given. Throws {@link UsageProblem} when both flags are given and
 * {@link InputProblem} when the file cannot be read.
 */
export function readPassword(
  source: PasswordSource,
  given: { value?: string | undefined; file?: string | undefined },
  env: Readonly<Record<string, string | undefined>> = process.env,
): string | undefined {
  if (given.value !== undefined && given.file !== undefined)
    throw new UsageProblem(`give either ${source.flag ?? source.env} or ${source.fileFlag}`);
  if (given.file !== undefined)
    return readInputFile(given.file)
      .toString('utf8')
      .replace(/\r?\n$/, '');
  return given.value ?? env[source.env];
}

/** How to give a password, for messages: `--key-password-file FILE or ORCHARD_KEY_PASSWORD`. */
export function passwordHint(source: PasswordSource): string {
  return `${source.fileFlag} FILE or ${source.env}`;
}

/** True when `bytes` are DER, i.e. a CMS-signed profile rather than a property list. */
export function isSigned(bytes: Uint8Array): boolean {
  return bytes[0] === 0x30;
}

/**
 * The problem of a signed input where a plain profile is needed, the same for every subcommand:
 * `PATH is signed (CMS): HINT [ERR_PROFILE_FORMAT]`.
 */
export function signedInput(path: string, hint: string): ProfileError {
  return new ProfileError('ERR_PROFILE_FORMAT', `${path} is signed (CMS): ${hint}`);
}

/**
 * Reads a private key file: an encrypted PEM key is opened with `password` here; any other key
 * is returned as PEM text or DER bytes for the library to parse. Throws {@link UsageProblem}
 * when an encrypted key has no password and {@link InputProblem} `cannot read PATH (wrong
 * password)` when the password does not open it.
 */
export function readPrivateKeyFile(
  path: string,
  password: string | undefined,
  source: PasswordSource,
): string | Buffer | KeyObject {
  const bytes = readInputFile(path);
  if (!bytes.includes('-----BEGIN')) return bytes;
  if (!bytes.includes('ENCRYPTED')) return bytes.toString('utf8');
  if (password === undefined)
    throw new UsageProblem(`cannot read ${path} (encrypted: give ${passwordHint(source)})`);
  try {
    return createPrivateKey({ key: bytes, passphrase: password });
  } catch {
    throw new InputProblem(`cannot read ${path} (wrong password)`);
  }
}

function report(command: Command, error: unknown): number {
  // A start-up error (`ERR_CONFIG`) names its flag or variable: misuse, like a bad option.
  const usage = error instanceof UsageProblem || error instanceof OrchardStartupError;
  if (usage) {
    process.stderr.write(usageLines(command, error.message));
    return EXIT_USAGE;
  }
  let message: string;
  if (error instanceof InputProblem) message = error.message;
  else if (error instanceof OrchardError) message = `${error.message} [${error.code}]`;
  else throw error;
  process.stderr.write(`${commandPath(command)}: ${message}\n`);
  return EXIT_INPUT;
}

/**
 * Runs a subcommand's body and sets `process.exitCode`: the body's code (0 when it returns none),
 * or 1 after printing an {@link InputProblem} or `OrchardError`, or 2 after a {@link UsageProblem}
 * or a configuration error. Anything else is a bug and is rethrown.
 */
export async function runAction(
  command: Command,
  body: () => number | undefined | Promise<number | undefined>,
): Promise<void> {
  try {
    process.exitCode = (await body()) ?? 0;
  } catch (error) {
    process.exitCode = report(command, error);
  }
}
