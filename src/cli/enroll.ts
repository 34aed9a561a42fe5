/**
 * `orchard enroll create`: an enrollment link (single use by default, expiring, optionally for a
 * user) written to the daemon's database and printed once. The URL's base is `--public-url` or
 * the one the daemon recorded at its last start. Without a push certificate at the daemon's last
 * start it refuses (exit 1) and says how to get one: such a link could only fail.
 */
import type { Command } from 'commander';
import {
  ConfigError,
  issueEnrollmentToken,
  PUSH_CERTIFICATE_STEPS,
  PUSH_TOPIC_META,
  recordAudit,
  tokenView,
} from '../index.js';
import { cliActor, openAdminFromOptions, withDatabaseOptions } from './admin-db.js';
import { EXIT_INPUT, EXIT_USAGE } from './exit-codes.js';

/** Parses `3600`, `90m`, `24h` or `7d` into seconds; `undefined` when malformed. */
export function parseDuration(text: string): number | undefined {
  const m = /^(\d{1,9})([smhd]?)$/.exec(text);
  if (!m) return undefined;
  const unit = { '': 1, s: 1, m: 60, h: 3600, d: 86_400 }[m[2] as '' | 's' | 'm' | 'h' | 'd'];
  return Number(m[1]) * unit;
}

/** The database flags `withDatabaseOptions` adds. */
type DatabaseFlags = Parameters<typeof openAdminFromOptions>[0];

interface EnrollOptions extends DatabaseFlags {
  multiUse?: boolean;
  expires?: string;
  user?: string;
  publicUrl?: string;
}

function fail(message: string, code: number): void {
  process.stderr.write(`orchard enroll create: ${message}\n`);
  process.exitCode = code;
}

async function create(opts: EnrollOptions): Promise<void> {
  const expires = opts.expires === undefined ? undefined : parseDuration(opts.expires);
  if (opts.expires !== undefined && expires === undefined) {
    fail('--expires must be like 3600, 90m, 24h or 7d (0 = never)', EXIT_USAGE);
    return;
  }
  let store;
  try {
    store = await openAdminFromOptions(opts);
  } catch (error) {
    fail(
      error instanceof Error ? error.message : String(error),
      error instanceof ConfigError ? EXIT_USAGE : EXIT_INPUT,
    );
    return;
  }
  try {
    // Empty: the daemon last ran without a push certificate; absent: it never ran on this database.
    const topic = await store.getMeta(PUSH_TOPIC_META);
    if (topic === undefined || topic === '') {
      const unknown =
        topic === undefined ? ' (the daemon has not started on this database yet)' : '';
      fail(
        `no enrollment link created${unknown}.\n${PUSH_CERTIFICATE_STEPS.join('\n')}`,
        EXIT_INPUT,
      );
      return;
    }
    const base = (
      opts.publicUrl ??
      process.env.ORCHARD_PUBLIC_URL ??
      (await store.getMeta('public_url'))
    )?.replace(/\/+$/, '');
    if (base === undefined || !/^https?:\/\//.test(base)) {
      fail('--public-url is needed (the daemon has not recorded one yet)', EXIT_USAGE);
      return;
    }
    const { record, url } = await issueEnrollmentToken(store, () => new Date(), base, {
      singleUse: opts.multiUse !== true,
      ...(expires === undefined ? {} : { expiresInSeconds: expires }),
      ...(opts.user === undefined ? {} : { user: opts.user }),
    });
    await recordAudit(store, cliActor(), 'enrollment-token.create', record.id, {
      singleUse: record.singleUse,
    });
    process.stdout.write(`${JSON.stringify({ ...tokenView(record), url })}\n`);
  } finally {
    store.close();
  }
}

/** Registers `orchard enroll` on the program. */
export function registerEnroll(program: Command): void {
  const enroll = program.command('enroll').description('enrollment links');
  withDatabaseOptions(
    enroll
      .command('create')
      .description('create an enrollment link and print it once')
      .option('--multi-use', 'allow many devices to use the link (default single use)')
      .option('--expires <duration>', 'lifetime: 3600, 90m, 24h, 7d (default 7d; 0 = never)')
      .option('--user <name>', 'the user the enrollment is for')
      .option('--public-url <url>', 'base URL (default: the one the daemon recorded)'),
  ).action((opts: EnrollOptions) => create(opts));
}
