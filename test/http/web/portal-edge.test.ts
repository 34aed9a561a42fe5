/**
 * The web routes on the edge listener over a real socket on 127.0.0.1: a browser's sign-in,
 * cookie and CSRF round trip through node:http, the client address reaching the sign-in
 * limiter, area labels in the logs (no ids), and body limits.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { webRoutes } from '../../../src/http/web/index.js';
import { createEdgeListener } from '../../../src/http/node.js';
import type { Logger } from '../../../src/logger.js';
import { PASSWORD, portalWorld, type PortalWorld } from './portal-fixture.js';

const labels: string[] = [];
const logger: Logger & { child(bindings: object): Logger } = {
  debug: () => undefined,
  info: (obj) => {
    const route = (obj as { route?: unknown }).route;
    if (typeof route === 'string') labels.push(route);
  },
  warn: () => undefined,
  error: () => undefined,
  child: () => logger,
};

let server: Server;
let world: PortalWorld;
let base = '';

beforeAll(async () => {
  world = await portalWorld();
  await world.enroll('dev-ann', world.ann);
  server = createServer(createEdgeListener({ routes: webRoutes(world.deps), logger }));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `127.0.0.1:${String((server.address() as AddressInfo).port)}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function send(
  method: string,
  path: string,
  headers: Record<string, string>,
  body = '',
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(`http://${base}${path}`, { method, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

describe('web routes on the edge', () => {
  test('ok/sign in, open the device, install, sign out: cookies and CSRF over node:http', async () => {
    const signIn = await send(
      'POST',
      '/portal/sign-in',
      { ...FORM, origin: `http://${base}` },
      form({ login: 'ann', password: PASSWORD }),
    );
    expect(signIn.status).toBe(303);
    const setCookie = signIn.headers['set-cookie'];
    expect(setCookie).toHaveLength(1);
    const cookie = /^(orchard_portal=[^;]+)/.exec(String(setCookie?.[0]))?.[1] ?? '';
    const list = await send('GET', '/portal/', { cookie });
    expect(list.status).toBe(200);
    expect(list.headers['content-security-policy']).toContain("default-src 'none'");
    const csrf = /name="_csrf" value="([^"]+)"/.exec(list.body)?.[1] ?? '';
    const install = await send(
      'POST',
      `/portal/devices/dev-ann/profiles/${world.interactive.id}/install`,
      { ...FORM, cookie },
      form({ _csrf: csrf }),
    );
    expect(install.status).toBe(303);
    const forged = await send('POST', '/portal/sign-out', { ...FORM, cookie }, form({}));
    expect(forged.status).toBe(403);
    const out = await send('POST', '/portal/sign-out', { ...FORM, cookie }, form({ _csrf: csrf }));
    expect(out.status).toBe(303);
    expect((await send('GET', '/portal/', { cookie })).status).toBe(303);
    expect(labels).toEqual(expect.arrayContaining(['/portal/*']));
    expect(labels.join(' ')).not.toContain('dev-ann');
  });

  test('ok/a sign-in from another host is refused by the Origin check', async () => {
    const r = await send(
      'POST',
      '/portal/sign-in',
      { ...FORM, origin: 'http://evil.example' },
      form({ login: 'ann', password: PASSWORD }),
    );
    expect(r.status).toBe(403);
  });

  test('fail/a form body past 64 KiB is refused 413', async () => {
    const r = await send(
      'POST',
      '/portal/sign-in',
      FORM,
      form({ login: 'x'.repeat(70 * 1024), password: 'y' }),
    );
    expect(r.status).toBe(413);
    expect(r.headers['content-type']).toBe('text/html; charset=UTF-8');
    expect(r.headers['x-frame-options']).toBe('DENY');
    expect(r.body).toContain('Too large');
  });

  test('ok/the stylesheet and a bare /portal answer through the edge', async () => {
    const css = await send('GET', '/static/orchard.css', {});
    expect(css.status).toBe(200);
    expect(css.headers['content-type']).toBe('text/css; charset=utf-8');
    const bare = await send('GET', '/portal', {});
    expect(bare.status).toBe(308);
    expect(bare.headers.location).toBe('/portal/');
  });
});
