/** `--webhook-format` and `ORCHARD_WEBHOOK_FORMAT`: orchard (default) or nanomdm, refusals naming the flag. */
import { describe, expect, test } from '@jest/globals';
import { FLAGS, resolveConfig } from '../../src/daemon/config.js';
import { ConfigError } from '../../src/index.js';

const hook = { webhookUrl: 'http://127.0.0.1:9/h', webhookSecret: 'w'.repeat(32) };

describe('--webhook-format', () => {
  test('ok/absent: Orchard events, configuration unchanged', () => {
    expect(resolveConfig(hook, {}).webhook).toEqual({
      url: 'http://127.0.0.1:9/h',
      secret: 'w'.repeat(32),
    });
  });

  test.each([
    ['ok/flag nanomdm', { ...hook, webhookFormat: 'nanomdm' }, {}, 'nanomdm'],
    ['ok/flag orchard', { ...hook, webhookFormat: 'orchard' }, {}, 'orchard'],
    ['ok/ORCHARD_WEBHOOK_FORMAT', hook, { ORCHARD_WEBHOOK_FORMAT: 'nanomdm' }, 'nanomdm'],
    [
      'ok/the flag wins over the variable',
      { ...hook, webhookFormat: 'orchard' },
      { ORCHARD_WEBHOOK_FORMAT: 'nanomdm' },
      'orchard',
    ],
  ])('%s', (_name, flags, env, format) => {
    expect(resolveConfig(flags, env).webhook?.format).toBe(format);
  });

  test.each([
    ['fail/an unknown format', { ...hook, webhookFormat: 'micromdm' }, {}],
    ['fail/without --webhook-url', { webhookFormat: 'nanomdm' }, {}],
    ['fail/the variable without a URL', {}, { ORCHARD_WEBHOOK_FORMAT: 'nanomdm' }],
  ])('%s names --webhook-format', (_name, flags, env) => {
    let error: unknown;
    try {
      resolveConfig(flags, env);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect(error).toMatchObject({ code: 'ERR_CONFIG', flag: '--webhook-format' });
  });

  test('ok/listed among the flags of orchard serve', () => {
    expect(FLAGS.map((f) => f.name)).toContain('webhook-format');
  });
});
