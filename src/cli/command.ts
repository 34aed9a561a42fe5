/**
 * `orchard command send`: queues a command through the daemon's admin API from a file holding
 * the command dictionary as a property list (XML or binary) or as JSON in the typed encoding of
 * docs/plist.md, and prints the command's uuid (the API's answer with `--json`). The file is
 * checked here first, so a malformed one is reported with where it is wrong before any request.
 */
import type { Command } from 'commander';
import { readFile } from 'node:fs/promises';
import { PlistError, PlistJsonError } from '../index.js';
import { decodePlist, encodePlist, fromTypedJson, type PlistValue } from '../index.js';
import { EXIT_INPUT, EXIT_USAGE } from './exit-codes.js';

/** The daemon's default address (`orchard serve` listens there unless told otherwise). */
export const DEFAULT_DAEMON_URL = 'http://127.0.0.1:8080';

const PLIST_TYPE = 'application/x-apple-plist';

interface SendOptions {
  enrollment: string[];
  in: string;
  url?: string;
  apiKey?: string;
  json?: boolean;
}

/** A problem that ends the command with `code`; its message goes to stderr. */
class SendError extends Error {
  constructor(
    readonly exitCode: number,
    message: string,
  ) {
    super(message);
  }
}

/** The file's command, as read, and how it is sent. */
interface CommandFile {
  kind: 'plist' | 'json';
  bytes: Buffer;
  command: PlistValue;
}

function firstSignificant(bytes: Buffer): string {
  const text = bytes
    .subarray(0, 64)
    .toString('utf8')
    .replace(/^\ufeff/, '');
  return text.trimStart().charAt(0);
}

/** Reads and checks the file; throws SendError (input) when it is no command. */
async function readCommand(path: string): Promise<CommandFile> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw new SendError(EXIT_INPUT, `cannot read ${path}: ${(error as Error).message}`);
  }
  const start = firstSignificant(bytes);
  const kind =
    bytes.subarray(0, 6).toString('latin1') === 'bplist' || start === '<' ? 'plist' : 'json';
  if (kind === 'json' && start !== '{')
    throw new SendError(EXIT_INPUT, `${path}: neither a property list nor a JSON object`);
  let command: PlistValue;
  try {
    command =
      kind === 'plist' ? decodePlist(bytes) : fromTypedJson(JSON.parse(bytes.toString('utf8')));
  } catch (error) {
    if (error instanceof PlistJsonError)
      throw new SendError(EXIT_INPUT, `${path}: at ${error.path || 'the root'}: ${error.message}`);
    if (error instanceof PlistError || error instanceof SyntaxError)
      throw new SendError(EXIT_INPUT, `${path}: ${error.message}`);
    throw error;
  }
  const dict = command as Record<string, PlistValue>;
  const isDict = typeof command === 'object' && Object.getPrototypeOf(command) === Object.prototype;
  if (!isDict || typeof dict.RequestType !== 'string')
    throw new SendError(EXIT_INPUT, `${path}: not a command dictionary with a RequestType string`);
  return { kind, bytes, command };
}

/** The request: one enrollment gets the file as it is; several get `{enrollmentIds, command}`. */
function requestFor(file: CommandFile, ids: readonly string[]): { path: string; body: Buffer } {
  if (ids.length === 1)
    return {
      path: `/api/v1/enrollments/${encodeURIComponent(ids[0] ?? '')}/commands`,
      body: file.bytes,
    };
  // The JSON text is kept as written (so the server reads exactly what the file says).
  const body =
    file.kind === 'json'
      ? Buffer.from(
          `{"enrollmentIds":${JSON.stringify(ids)},"command":${file.bytes.toString('utf8')}}`,
        )
      : encodePlist({ enrollmentIds: [...ids], command: file.command }, { format: 'binary' });
  return { path: '/api/v1/commands', body };
}

function baseUrl(given: string | undefined): string {
  const text = given ?? process.env.ORCHARD_URL ?? DEFAULT_DAEMON_URL;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new SendError(EXIT_USAGE, `--url ${text} is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new SendError(EXIT_USAGE, '--url must be an http or https URL');
  return text.replace(/\/+$/, '');
}

/** One line per problem the API reported: code, message, field, validation issues. */
function describeRefusal(status: number, text: string): string {
  let body: { code?: unknown; message?: unknown; field?: unknown; issues?: unknown };
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    return `the daemon answered ${status}: ${text.slice(0, 200)}`;
  }
  const lines = [`the daemon answered ${status} ${String(body.code)}: ${String(body.message)}`];
  if (typeof body.field === 'string') lines.push(`  field: ${body.field}`);
  if (Array.isArray(body.issues))
    for (const issue of body.issues as { path?: string; message?: string }[])
      lines.push(
        `  ${issue.path === undefined || issue.path === '' ? '' : `${issue.path}: `}${issue.message ?? ''}`,
      );
  return lines.join('\n');
}

async function post(url: string, key: string, file: CommandFile, body: Buffer) {
  try {
    return await fetch(url, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${key}`,
        'content-type': file.kind === 'plist' ? PLIST_TYPE : 'application/json',
      },
      body,
    });
  } catch (error) {
    const cause = (error as { cause?: { message?: string } }).cause?.message;
    throw new SendError(EXIT_INPUT, `cannot reach ${url}: ${cause ?? (error as Error).message}`);
  }
}

async function send(opts: SendOptions): Promise<void> {
  const key = opts.apiKey ?? process.env.ORCHARD_API_KEY;
  if (key === undefined || key === '')
    throw new SendError(EXIT_USAGE, 'an API key is needed: --api-key or ORCHARD_API_KEY');
  const base = baseUrl(opts.url);
  const file = await readCommand(opts.in);
  const request = requestFor(file, opts.enrollment);
  const res = await post(base + request.path, key, file, request.body);
  const text = await res.text();
  if (res.status !== 201) {
    // A missing, unknown or read-only key is a misuse of --api-key; the rest is about the input.
    throw new SendError(
      res.status === 403 ? EXIT_USAGE : EXIT_INPUT,
      describeRefusal(res.status, text),
    );
  }
  if (opts.json === true) {
    process.stdout.write(`${text}\n`);
    return;
  }
  const answer = JSON.parse(text) as { commandUuid: string };
  process.stdout.write(`${answer.commandUuid}\n`);
}

/** Registers `orchard command` on the program. */
export function registerCommand(program: Command): void {
  const command = program.command('command').description('MDM commands through the admin API');
  command
    .command('send')
    .description(
      'queue a command from a plist (XML or binary) or typed-JSON file and print its uuid',
    )
    .requiredOption('--enrollment <id...>', 'enrollment id(s) to send it to')
    .requiredOption('--in <file>', 'the command dictionary: a plist, or JSON (docs/plist.md)')
    .option('--url <url>', `the daemon's base URL (env ORCHARD_URL; default ${DEFAULT_DAEMON_URL})`)
    .option('--api-key <key>', 'a write-scope admin API key (env ORCHARD_API_KEY)')
    .option('--json', "print the API's JSON answer instead of the uuid")
    .action(async (opts: SendOptions) => {
      try {
        await send(opts);
      } catch (error) {
        if (!(error instanceof SendError)) throw error;
        const hint = error.exitCode === EXIT_USAGE ? "Try 'orchard command send --help'.\n" : '';
        process.stderr.write(`orchard command send: ${error.message}\n${hint}`);
        process.exitCode = error.exitCode;
      }
    });
}
