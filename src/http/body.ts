/**
 * The edge's one body reader, for node:http requests and fetch `Request`s: the whole body, refused
 * with 413 `ERR_BODY_TOO_LARGE` as soon as the declared length or the bytes read pass the limit,
 * so an oversized body is never buffered.
 */
import type { IncomingMessage } from 'node:http';
import { RequestError } from '../errors.js';

function tooLarge(limit: number): RequestError {
  return new RequestError('ERR_BODY_TOO_LARGE', `body larger than ${limit} bytes`);
}

/** The body of a request without one (shared: an empty buffer holds nothing to change). */
const EMPTY = Buffer.alloc(0);

/**
 * Reads the body of a node:http request, at most `limit` bytes, and calls `done` once: with the
 * body, or with {@link RequestError} `ERR_BODY_TOO_LARGE` (413) past the limit (the rest of the
 * body is left unread, so the caller should close the connection) or the stream's error. The
 * callback form of {@link readNodeBody}, for the device path (no promise per request).
 */
export function readNodeBodyInto(
  req: IncomingMessage,
  limit: number,
  done: (err: Error | undefined, body?: Buffer) => void,
): void {
  const declared = Number(req.headers['content-length'] ?? '0');
  if (declared > limit) {
    done(tooLarge(limit));
    return;
  }
  let first: Buffer | undefined;
  let chunks: Buffer[] | undefined;
  let size = 0;
  let settled = false;
  const settle = (err: Error | undefined, body?: Buffer): void => {
    if (settled) return;
    settled = true;
    done(err, body);
  };
  req.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size > limit) {
      req.removeAllListeners('data');
      settle(tooLarge(limit));
      return;
    }
    if (first === undefined) first = chunk;
    else (chunks ??= [first]).push(chunk);
  });
  req.on('end', () => {
    settle(undefined, chunks === undefined ? (first ?? EMPTY) : Buffer.concat(chunks, size));
  });
  req.on('error', (err) => {
    settle(err);
  });
}

/**
 * Reads the body of a node:http request, at most `limit` bytes. Rejects with
 * {@link RequestError} `ERR_BODY_TOO_LARGE` (413) past it (the rest of the body is left unread,
 * so the caller should close the connection), or with the stream's error.
 */
export function readNodeBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    readNodeBodyInto(req, limit, (err, body) => {
      if (err === undefined) resolve(body as Buffer);
      else reject(err);
    });
  });
}

/**
 * Reads the body of a fetch `Request`, at most `limit` bytes (an empty array when it has none).
 * Rejects with {@link RequestError} `ERR_BODY_TOO_LARGE` (413) past it, after cancelling the
 * stream.
 */
export async function readFetchBody(request: Request, limit: number): Promise<Uint8Array> {
  const declared = Number(request.headers.get('content-length') ?? '0');
  if (declared > limit) throw tooLarge(limit);
  if (request.body === null) return new Uint8Array(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = (await reader.read()) as { done: boolean; value?: Uint8Array };
    if (done || value === undefined) break;
    size += value.length;
    if (size > limit) {
      await reader.cancel();
      throw tooLarge(limit);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, size);
}
