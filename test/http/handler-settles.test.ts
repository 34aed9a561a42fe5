/**
 * The MDM handler and the node listener answer every failure, however it is raised: a service
 * or decoder that throws synchronously (not only one that rejects), a thrown non-Error, a body
 * stream that fails. The device path is written with callbacks and promise chains rather than
 * async functions (an idle poll is most of a fleet's traffic), so a synchronous throw must still
 * become an answer: never an unhandled rejection, a crash, a hang or a 401.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { request, createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createMdmHandler, type MdmHandler } from '../../src/http/mdm.js';
import { createNodeListener } from '../../src/http/node.js';
import { encodePlist } from '../../src/protocol/plist.js';
import { createMdmCore } from '../../src/service/core.js';
import type { MdmService } from '../../src/service/ports.js';
import { createMemoryStorage } from '../../src/storage/memory/index.js';

const IDLE = encodePlist({ Status: 'Idle', UDID: 'HANDLER-SETTLES-1' });

/** For services the case never reaches (reaching it would answer 500). */
function unreached(): never {
  throw new Error('the service was reached');
}

/** A service whose `commandReport` does what `behave` says, everything else the core's. */
function serviceThat(behave: () => never): MdmService {
  const core = createMdmCore({ storage: createMemoryStorage() }, { topic: 't', outbox: false });
  return { ...core, commandReport: () => behave() };
}

function put(handler: MdmHandler, body: Uint8Array): ReturnType<MdmHandler> {
  return handler({
    method: 'PUT',
    path: '/mdm',
    header: (name) => (name === 'content-type' ? 'application/x-apple-aspen-mdm' : undefined),
    body,
  });
}

describe('createMdmHandler settles every request with an answer', () => {
  test('fail/a service that throws synchronously is answered 500, not a rejection', async () => {
    const handler = createMdmHandler(
      serviceThat(() => {
        throw new TypeError('boom');
      }),
    );
    const out = await put(handler, IDLE);
    expect(out.status).toBe(500);
    expect(JSON.parse(Buffer.from(out.body).toString()).code).toBe('ERR_INTERNAL');
  });

  test('fail/a decoder that throws a non-Error is answered 500', async () => {
    const handler = createMdmHandler(serviceThat(unreached), {
      decoders: {
        report: () => {
          // eslint-disable-next-line @typescript-eslint/only-throw-error -- the case under test
          throw 'not an Error';
        },
      },
    });
    const out = await put(handler, IDLE);
    expect(out.status).toBe(500);
  });

  test('fail/a malformed body is answered 400 by the decoder, synchronously thrown', async () => {
    const handler = createMdmHandler(serviceThat(unreached));
    const out = await put(handler, Buffer.from('<plist><dict><key>Status</key>'));
    expect(out.status).toBe(400);
  });
});

describe('createNodeListener over real HTTP', () => {
  let server: Server;
  let port: number;
  beforeAll(async () => {
    const handler = createMdmHandler(
      serviceThat(() => {
        throw new RangeError('boom');
      }),
    );
    server = createServer(createNodeListener(handler));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  /** Sends `body` (or only `sent` bytes of a declared `declared`-byte body) and gets the status. */
  function send(body: Buffer, declared?: number): Promise<number> {
    return new Promise((resolve, reject) => {
      const headers: Record<string, string> = { 'content-type': 'application/x-apple-aspen-mdm' };
      if (declared !== undefined) headers['content-length'] = String(declared);
      const req = request(
        { port, host: '127.0.0.1', method: 'PUT', path: '/mdm', headers },
        (res) => {
          res.resume();
          res.on('end', () => {
            resolve(res.statusCode ?? 0);
            req.destroy();
          });
        },
      );
      req.on('error', reject);
      if (declared === undefined) req.end(body);
      else req.write(body);
    });
  }

  test('fail/a synchronous throw in the service is answered 500 and the server keeps serving', async () => {
    expect(await send(IDLE)).toBe(500);
    expect(await send(IDLE)).toBe(500);
  });

  test('fail/a body over the limit is answered 413 without reading it', async () => {
    expect(await send(Buffer.alloc(1024, 0x20), 8 * 1024 * 1024)).toBe(413);
  });
});
