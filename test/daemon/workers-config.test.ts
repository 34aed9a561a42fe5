/**
 * `--workers`: the default of one process, a count, `auto` (one per CPU), and the refusals naming
 * the flag; and the supervisor's refusal of a count below one.
 */
import { describe, expect, test } from '@jest/globals';
import { availableParallelism } from 'node:os';
import { resolveConfig } from '../../src/daemon/config.js';
import { superviseWorkers, workerRateLimit } from '../../src/daemon/cluster.js';
import { ConfigError, silentLogger } from '../../src/index.js';

describe('--workers', () => {
  test('ok/one process by default, a count, or auto: one per CPU', () => {
    expect(resolveConfig({}, {}).workers).toBe(1);
    expect(resolveConfig({ workers: '2' }, {}).workers).toBe(2);
    expect(resolveConfig({}, { ORCHARD_WORKERS: '3' }).workers).toBe(3);
    expect(resolveConfig({ workers: 'auto' }, {}).workers).toBe(
      Math.min(64, availableParallelism()),
    );
  });

  test.each(['0', '-1', 'two', '1.5', '65', ''])(
    'fail/--workers %p is refused naming the flag',
    (v) => {
      let error: unknown;
      try {
        resolveConfig({ workers: v }, {});
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toContain('--workers');
    },
  );

  test('ok/each worker gets its share of --rate-limit, never more in all than configured', () => {
    expect(workerRateLimit(60, 1)).toBe(60);
    expect(workerRateLimit(60, 2)).toBe(30);
    expect(workerRateLimit(61, 2)).toBe(31);
    expect(workerRateLimit(1, 4)).toBe(1);
    expect(workerRateLimit(0, 4)).toBe(0);
  });

  test('fail/the supervisor refuses fewer than one worker', () => {
    expect(() => superviseWorkers({ workers: 0, logger: silentLogger })).toThrow(TypeError);
  });
});
