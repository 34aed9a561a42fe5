/**
 * `orchard sim` through the real bin: `--demo` starts a daemon, a push identity, the APNs endpoint
 * and N devices in one process (N = 5 × ORCHARD_SCALE), every device enrolls, is pushed and
 * answers, and `--json` prints the summary as one object. Against a running daemon (`--url`), the
 * APNs CA kept in `--apns-dir` is the one the daemon trusts. Misuse exits 2 with one line.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from '@jest/globals';
import { createSimApns, type FleetSummary } from '../../src/sim/index.js';
import { orchard } from '../support/cli.js';
import { spawnDaemon } from '../support/daemon.js';

const SCALE = Math.max(1, Number(process.env.ORCHARD_SCALE ?? '1') || 1);
const DEVICES = 5 * SCALE;

describe('orchard sim', () => {
  test(`ok/--demo --devices ${DEVICES} --json enrolls every device with zero errors`, async () => {
    const run = await orchard('sim', '--demo', '--devices', String(DEVICES), '--json');
    expect(run.stderr).not.toMatch(/Error|at .*\.ts/);
    expect(run.code).toBe(0);
    const lines = run.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const summary = JSON.parse(lines[0]!);
    expect(summary).toMatchObject({
      devices: DEVICES,
      enrolled: DEVICES,
      failed: 0,
      errors: { count: 0, first: [] },
      commands: { Acknowledged: DEVICES },
      pushes: DEVICES,
    });
    expect(summary.requestTypes.DeviceInformation).toBe(DEVICES);
    expect(summary.latencyMs.count).toBeGreaterThan(0);
    expect(run.stderr).toMatch(new RegExp(`orchard sim: enrolled ${DEVICES}/${DEVICES}`));
  }, 180_000);

  test('ok/--demo with User Enrollment, user channels and injected NotNow and Error answers', async () => {
    const run = await orchard(
      ...['sim', '--demo', '--devices', '4', '--os-mix', 'ios-ue:1,macos:1', '--user-channels'],
      ...['--not-now-rate', '0.5', '--error-rate', '1', '--json'],
    );
    expect(run.stderr).not.toMatch(/Error:|at .*\.ts/);
    expect(run.code).toBe(0);
    const summary = JSON.parse(run.stdout) as FleetSummary;
    expect(summary).toMatchObject({ enrolled: 4, failed: 0, errors: { count: 0, first: [] } });
    // Every device channel answers DeviceInformation, NotNow or an injected Error.
    const { NotNow = 0, Error: failed = 0, ...rest } = summary.commands;
    expect(rest).toEqual({});
    expect(NotNow + failed).toBe(4);
    expect(summary.requestTypes.DeviceInformation).toBe(4);
    // Two macOS device enrollments also checked in on a user channel: 4 + 2 first sessions.
    expect(summary.sessions).toBeGreaterThanOrEqual(6);
  }, 180_000);

  test('ok/--help documents the channel and behaviour flags', async () => {
    const run = await orchard('sim', '--help');
    expect(run.code).toBe(0);
    for (const flag of ['--user-channels', '--not-now-rate <r>', '--error-rate <r>', 'ios-ue:20'])
      expect(run.stdout).toContain(flag);
  });

  test.each([
    ['fail/--demo with --url', ['--demo', '--url', 'http://127.0.0.1:1'], /drop --url/],
    ['fail/a bad device count', ['--demo', '--devices', 'many'], /--devices: expected a whole/],
    ['fail/a bad OS mix', ['--demo', '--os-mix', 'android:5'], /--os-mix: expected/],
    ['fail/a bad duration', ['--demo', '--duration', '5 minutes'], /--duration: expected/],
    ['fail/a rate above 1', ['--demo', '--error-rate', '2'], /--error-rate: expected a rate/],
    ['fail/a rate not a number', ['--demo', '--not-now-rate', 'x'], /--not-now-rate: expected/],
    ['fail/no API key against a daemon', ['--url', 'http://127.0.0.1:1'], /an API key is needed/],
  ])('%s exits 2 with one line and a hint', async (_name, args, message) => {
    const run = await orchard('sim', ...args);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(run.stderr).toMatch(/Try 'orchard sim --help'/);
    expect(run.stdout).toBe('');
  });

  test('fail/an unreachable daemon exits 1 naming it', async () => {
    const run = await orchard(
      'sim',
      '--url',
      'http://127.0.0.1:1',
      '--api-key',
      'k',
      '--devices',
      '1',
    );
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^orchard sim: cannot reach http:\/\/127\.0\.0\.1:1/m);
  });
});

/** A port free a moment ago on 127.0.0.1. */
function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        resolve(typeof address === 'object' && address !== null ? address.port : 0);
      });
    });
  });
}

describe('orchard sim --url', () => {
  test('ok/devices enroll into a running daemon and are pushed through the --apns-dir CA', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'orchard-sim-url-'));
    // A first endpoint makes the CA and a push identity; the sim run below reuses that CA.
    const first = await createSimApns();
    const push = await first.issuePushIdentity(`com.apple.mgmt.External.${randomUUID()}`);
    await first.close();
    writeFileSync(join(dir, 'apns-ca.pem'), first.ca.certPem);
    writeFileSync(join(dir, 'apns-ca.key'), first.ca.keyPem);
    writeFileSync(join(dir, 'push.pem'), push.certPem);
    writeFileSync(join(dir, 'push.key'), push.keyPem);
    const port = await freePort();
    const daemon = await spawnDaemon({
      args: [
        ...['--push-cert', join(dir, 'push.pem'), '--push-key', join(dir, 'push.key')],
        ...['--apns-url', `https://127.0.0.1:${port}`, '--apns-ca', join(dir, 'apns-ca.pem')],
        ...['--rate-limit', 'off'],
      ],
    });
    try {
      const run = await orchard(
        ...['sim', '--url', daemon.url, '--api-key', daemon.apiKey!, '--devices', '3'],
        ...['--apns-dir', dir, '--apns-port', String(port), '--json'],
      );
      expect(run.code).toBe(0);
      expect(JSON.parse(run.stdout)).toMatchObject({
        enrolled: 3,
        pushes: 3,
        commands: { Acknowledged: 3 },
        errors: { count: 0 },
      });
      expect(run.stderr).toContain(`--apns-ca ${join(dir, 'apns-ca.pem')}`);
    } finally {
      await daemon.cleanup();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
