/**
 * SECURITY.md "auth decided on a different path than the handler reached": a property test over
 * admin path variants (`//`, `%2e`, `;`, trailing dots, dot segments, encoded separators, case).
 * The router either refuses a variant or resolves it to a route whose static segments are exactly
 * the variant's, so the auth class checked is the one of the handler that runs; on the running
 * daemon, no variant reaches a guarded handler without a key, or a write handler with a read key.
 * Runs: FC_RUNS (default 150).
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import fc from 'fast-check';
import { RequestError } from '../../src/errors.js';
import { matchRoute, ROUTES } from '../../src/http/admin/index.js';
import { startHarness, type Harness } from './harness.js';

const RUNS = Number(process.env.FC_RUNS ?? 150);
const guarded = ROUTES.filter((r) => r.auth !== 'public');
const concrete = (path: string): string => path.replace(/\{\w+\}/g, 'probe-id');

type Mutation = (segments: string[], i: number) => string[];
const at =
  (f: (s: string) => string): Mutation =>
  (segs, i) =>
    segs.map((s, j) => (j === i ? f(s) : s));
const MUTATIONS: Record<string, Mutation> = {
  doubleSlash: (segs, i) => [...segs.slice(0, i), '', ...segs.slice(i)],
  dot: (segs, i) => [...segs.slice(0, i), '.', ...segs.slice(i)],
  dotDot: (segs, i) => [...segs.slice(0, i), 'x', '..', ...segs.slice(i)],
  encodedDot: (segs, i) => [...segs.slice(0, i), '%2e', ...segs.slice(i)],
  encodedDotDot: (segs, i) => [...segs.slice(0, i), 'x', '%2E%2e', ...segs.slice(i)],
  semicolon: at((s) => `${s};x=1`),
  trailingDot: at((s) => `${s}.`),
  trailingSlash: (segs) => [...segs, ''],
  encodedSlash: at((s) => `${s}%2f`),
  encodedBackslash: at((s) => `${s}%5c`),
  nul: at((s) => `${s}%00`),
  upper: at((s) => s.toUpperCase()),
  percentFirst: at((s) => `%${s.charCodeAt(0).toString(16)}${s.slice(1)}`),
};

const variant = fc
  .record({
    route: fc.constantFrom(...guarded),
    method: fc.constantFrom('GET', 'POST', 'DELETE'),
    steps: fc.array(fc.record({ name: fc.constantFrom(...Object.keys(MUTATIONS)), at: fc.nat() }), {
      minLength: 1,
      maxLength: 3,
    }),
  })
  .map(({ route, method, steps }) => {
    let segs = concrete(route.path).slice(1).split('/');
    for (const s of steps) segs = MUTATIONS[s.name]!(segs, s.at % (segs.length + 1));
    return { route, method, path: `/${segs.join('/')}` };
  });

function staticSegments(template: string, path: string): boolean {
  const want = template.slice(1).split('/');
  const got = path.slice(1).split('/');
  return want.length === got.length && want.every((w, i) => w.startsWith('{') || w === got[i]);
}

describe('admin path variants (property)', () => {
  test('ok/a variant is refused or resolves to a route whose static segments it spells exactly', () => {
    fc.assert(
      fc.property(variant, ({ method, path }) => {
        let match;
        try {
          match = matchRoute(method, path);
        } catch (error) {
          expect(error).toBeInstanceOf(RequestError);
          expect(['ERR_NOT_FOUND', 'ERR_METHOD']).toContain((error as RequestError).code);
          return;
        }
        expect(match.route.method).toBe(method);
        expect(staticSegments(match.route.path, path)).toBe(true);
        expect(path).not.toMatch(/\/\/|\/\.\.?(\/|$)|;|%2e|%2f|%5c|%00/i);
      }),
      { numRuns: RUNS * 5 },
    );
  });

  describe('on the running daemon', () => {
    let h: Harness;
    let readKey: string;
    beforeAll(async () => {
      h = await startHarness();
      readKey = (await h.api('POST', '/api/v1/api-keys', { name: 'r', scope: 'read' })).body.key;
    }, 60_000);
    afterAll(async () => {
      await h.close();
    });

    // Seeds the property found: the first crashed the listener (a bad "host" in new URL).
    test.each(['//%2e/x', '//%00', '//api/v1/enrollments', '/api/v1/enrollments/%2e%2e/api-keys'])(
      'fail/%s is a 404 and the daemon keeps serving',
      async (path) => {
        const res = await h.raw('GET', path, { authorization: `Bearer ${h.apiKey}` });
        expect(res.status).toBe(404);
        expect((await h.raw('GET', '/healthz')).status).toBe(200);
      },
    );

    test('fail/no variant reaches a guarded handler without a key, or a write handler with a read key', async () => {
      await fc.assert(
        fc.asyncProperty(variant, async ({ method, path }) => {
          const anonymous = await h.raw(method, path);
          expect([403, 404, 405]).toContain(anonymous.status);
          expect(JSON.parse(anonymous.body)).toHaveProperty('code');
          const reader = await h.raw(method, path, { authorization: `Bearer ${readKey}` });
          expect(reader.status).not.toBe(401);
          if (method !== 'GET') expect([403, 404, 405]).toContain(reader.status);
        }),
        { numRuns: RUNS },
      );
    }, 60_000);
  });
});
