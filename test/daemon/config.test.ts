/**
 * Configuration from flags over `ORCHARD_*` variables: defaults, precedence, and every refusal
 * naming its flag.
 */
import { describe, expect, test } from '@jest/globals';
import { resolve } from 'node:path';
import { describeDatabase } from '../../src/daemon/config-values.js';
import { FLAGS, envName, resolveConfig } from '../../src/daemon/config.js';
import { ConfigError } from '../../src/index.js';

describe('resolveConfig', () => {
  test('ok/defaults', () => {
    const c = resolveConfig({}, {});
    expect(c).toMatchObject({
      host: '127.0.0.1',
      port: 8080,
      dataDir: resolve('orchard-data'),
      database: { kind: 'sqlite', path: resolve('orchard-data', 'orchard.db') },
      logLevel: 'info',
      caKeyType: 'rsa-4096',
      scepAllowDes: false,
    });
    expect(c.publicUrl).toBeUndefined();
    expect(c.push).toBeUndefined();
    expect(c.apiKey).toBeUndefined();
  });

  test('ok/every flag has its ORCHARD_ variable', () => {
    for (const f of FLAGS)
      expect(envName(f.name)).toBe(`ORCHARD_${f.name.toUpperCase().replace(/-/g, '_')}`);
    const c = resolveConfig(
      {},
      {
        ORCHARD_LISTEN: '0.0.0.0:9000',
        ORCHARD_DATA_DIR: '/srv/o',
        ORCHARD_PUBLIC_URL: 'https://mdm.example.com/',
        ORCHARD_LOG_LEVEL: 'warn',
        ORCHARD_CERT_HEADER: 'X-Client-Cert',
        ORCHARD_TRUSTED_PROXY: '10.0.0.0/8, ::1',
        ORCHARD_PUSH_P12: '/p.p12',
        ORCHARD_PUSH_P12_PASSWORD: 'pw',
      },
    );
    expect(c).toMatchObject({
      host: '0.0.0.0',
      port: 9000,
      database: { kind: 'sqlite', path: '/srv/o/orchard.db' },
      publicUrl: 'https://mdm.example.com',
      logLevel: 'warn',
      certHeader: 'x-client-cert',
      trustedProxies: ['10.0.0.0/8', '::1'],
      push: { kind: 'p12', file: '/p.p12', password: 'pw' },
    });
  });

  test.each([
    [{}, { rateLimitPerMinute: 60, pushAllowTopicChange: false, pushWatchIntervalMs: 60_000 }],
    [{ rateLimit: '5/min' }, { rateLimitPerMinute: 5 }],
    [{ rateLimit: 'off' }, { rateLimitPerMinute: 0 }],
    [{ commandRetention: '30d' }, { commandRetentionMs: 30 * 86_400_000 }],
    [{ commandRetention: '90m' }, { commandRetentionMs: 90 * 60_000 }],
    [
      { pushWatchInterval: '2s', pushAllowTopicChange: true },
      { pushWatchIntervalMs: 2000, pushAllowTopicChange: true },
    ],
    [
      { webhookUrl: 'https://hooks.example.com/mdm', webhookSecret: 's'.repeat(32) },
      { webhook: { url: 'https://hooks.example.com/mdm', secret: 's'.repeat(32) } },
    ],
  ])('ok/features %j', (flags, expected) => {
    expect(resolveConfig(flags, {})).toMatchObject(expected);
  });

  test('ok/webhook settings come from ORCHARD_WEBHOOK_* variables', () => {
    const c = resolveConfig(
      {},
      { ORCHARD_WEBHOOK_URL: 'http://127.0.0.1:9/h', ORCHARD_WEBHOOK_SECRET: 'v'.repeat(32) },
    );
    expect(c.webhook).toEqual({ url: 'http://127.0.0.1:9/h', secret: 'v'.repeat(32) });
  });

  test('ok/a flag wins over its variable', () => {
    expect(resolveConfig({ listen: '[::1]:1' }, { ORCHARD_LISTEN: '127.0.0.1:2' })).toMatchObject({
      host: '::1',
      port: 1,
    });
  });

  test('ok/--database postgres:// selects PostgreSQL; the password never shows in its description', () => {
    const url = 'postgres://orchard:s3cret@db.internal:5432/orchard';
    const config = resolveConfig({ database: url }, {});
    expect(config.database).toEqual({ kind: 'postgres', url });
    expect(describeDatabase(config.database)).toBe(
      'postgres://orchard:***@db.internal:5432/orchard',
    );
    expect(resolveConfig({ database: 'postgresql://db/o' }, {}).database.kind).toBe('postgres');
  });

  test.each([
    [{ listen: 'localhost' }, '--listen'],
    [{ listen: '127.0.0.1:70000' }, '--listen'],
    [{ database: 'postgres://' }, '--database'],
    [{ database: 'mysql://x' }, '--database'],
    [{ publicUrl: 'ftp://x' }, '--public-url'],
    [{ publicUrl: 'https://x/?q=1' }, '--public-url'],
    [{ apiKey: '' }, '--api-key'],
    [{ apiKey: 'short' }, '--api-key'],
    [{ apiKey: `${'a'.repeat(31)} b` }, '--api-key'],
    [{ scepChallenge: 'abc' }, '--scep-challenge'],
    [{ pushCert: '/c.pem' }, '--push-key'],
    [{ pushKey: '/k.pem' }, '--push-cert'],
    [{ pushCert: '/c', pushKey: '/k', pushP12: '/p' }, '--push-p12'],
    [{ pushP12Password: 'x' }, '--push-p12-password'],
    [{ apnsUrl: 'http://apns' }, '--apns-url'],
    [{ logLevel: 'loud' }, '--log-level'],
    [{ certHeader: 'bad header' }, '--cert-header'],
    [{ caKeyType: 'dsa' }, '--ca-key-type'],
    [{ tlsClientCert: true }, '--tls-client-cert'],
    [{ tlsCert: '/c' }, '--tls-key'],
    [{ scepAllowDes: 'maybe' }, '--scep-allow-des'],
    [{ webhookUrl: 'http://127.0.0.1:1/h' }, '--webhook-secret'],
    [{ webhookUrl: 'http://127.0.0.1:1/h', webhookSecret: 'short' }, '--webhook-secret'],
    [{ webhookSecret: 'x'.repeat(40) }, '--webhook-secret'],
    [{ webhookUrl: 'ftp://x', webhookSecret: 'x'.repeat(40) }, '--webhook-url'],
    [{ webhookUrl: 'https://u:p@x/', webhookSecret: 'x'.repeat(40) }, '--webhook-url'],
    [{ commandRetention: '30' }, '--command-retention'],
    [{ commandRetention: '0d' }, '--command-retention'],
    [{ commandRetention: '1w' }, '--command-retention'],
    [{ pushWatchInterval: 'soon' }, '--push-watch-interval'],
    [{ pushAllowTopicChange: 'yes' }, '--push-allow-topic-change'],
    [{ rateLimit: '10/hour' }, '--rate-limit'],
    [{ rateLimit: '-1' }, '--rate-limit'],
  ])('fail/%j names %s', (flags, flag) => {
    let caught: unknown;
    try {
      resolveConfig(flags, {});
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect(caught).toMatchObject({ code: 'ERR_CONFIG', flag });
    expect((caught as Error).message.startsWith(flag)).toBe(true);
  });

  test('fail/an empty ORCHARD_API_KEY is refused, never an open API', () => {
    expect(() => resolveConfig({}, { ORCHARD_API_KEY: '' })).toThrow(/--api-key/);
  });
});

describe('--smtp-url and --smtp-from', () => {
  test('ok/an smtp URL with credentials and a sender are taken as given', () => {
    const c = resolveConfig(
      { smtpUrl: 'smtps://mailer:s3cret@mail.example.com:465', smtpFrom: 'mdm@example.com' },
      {},
    );
    expect(c).toMatchObject({
      smtpUrl: 'smtps://mailer:s3cret@mail.example.com:465',
      smtpFrom: 'mdm@example.com',
    });
  });

  test.each([
    ['fail/an http URL', { smtpUrl: 'http://mailer:hunter2@mail.example.com' }, '--smtp-url'],
    ['fail/no host', { smtpUrl: 'smtp://' }, '--smtp-url'],
    ['fail/a sender that is not an address', { smtpFrom: 'not an address' }, '--smtp-from'],
  ])('%s names the flag and never echoes the URL', (_name, flags, flag) => {
    let caught: unknown;
    try {
      resolveConfig(flags, {});
    } catch (error) {
      caught = error;
    }
    expect(caught).toMatchObject({ code: 'ERR_CONFIG', flag });
    expect((caught as Error).message).not.toContain('hunter2');
  });
});
