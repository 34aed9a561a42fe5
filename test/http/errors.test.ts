/**
 * The edge's one error renderer: every OrchardError subclass keeps its status and code in every
 * format, a 401 never escapes, errors whose message stays in the log get a generic one, and
 * anything that is not an OrchardError is 500 `ERR_INTERNAL` without its message or stack.
 */
import { describe, expect, test } from '@jest/globals';
import {
  AdminError,
  CertificateAuthorityError,
  ConfigError,
  CryptoError,
  DeviceAuthError,
  IdentityError,
  OrchardError,
  PlistError,
  PlistJsonError,
  ProfileError,
  ProtocolError,
  PushError,
  RequestError,
  ScepError,
  SecretsError,
  StorageError,
  UnrecognizedDeviceError,
  ValidationError,
  hiddenMessage,
  type OrchardHttpErrorCode,
} from '../../src/errors.js';
import { renderError, safeStatus, type ErrorFormat } from '../../src/http/errors.js';
import type { Logger } from '../../src/logger.js';

interface Logged {
  level: 'debug' | 'info' | 'warn' | 'error';
  obj: object;
  msg: string;
}

function recorder(): Logger & { lines: Logged[] } {
  const lines: Logged[] = [];
  const at =
    (level: Logged['level']) =>
    (obj: object, msg: string): void => {
      lines.push({ level, obj, msg });
    };
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

class Forced401 extends OrchardError {
  readonly code = 'ERR_WEIRD' as string as OrchardHttpErrorCode;
  readonly status = 401;
}

const text = (body: Uint8Array): string => Buffer.from(body).toString('utf8');
const json = (body: Uint8Array): Record<string, unknown> =>
  JSON.parse(text(body)) as Record<string, unknown>;

const SUBCLASSES: [string, OrchardError, number][] = [
  ['PlistError', new PlistError('ERR_PLIST_DEPTH', 'too deep'), 400],
  ['PlistJsonError', new PlistJsonError('a.b', 'null is no plist value'), 400],
  ['CryptoError', new CryptoError('ERR_CMS_SIGNATURE', 'bad signature'), 400],
  ['ValidationError', new ValidationError('invalid', []), 422],
  ['ProfileError', new ProfileError('ERR_PROFILE_FORMAT', 'not a profile'), 400],
  ['RequestError 413', new RequestError('ERR_BODY_TOO_LARGE', 'too large'), 413],
  ['RequestError 405', new RequestError('ERR_METHOD', 'no'), 405],
  ['ProtocolError 415', new ProtocolError('ERR_CONTENT_TYPE', 'type'), 415],
  ['ProtocolError 501', new ProtocolError('ERR_NOT_CONFIGURED', 'off'), 501],
  ['DeviceAuthError', new DeviceAuthError('ERR_IDENTITY_MISSING', 'who?'), 400],
  ['ScepError 503', new ScepError('ERR_SCEP_VALIDATOR', 'validator down'), 503],
  ['AdminError 403', new AdminError('ERR_API_KEY_MISSING', 'no key'), 403],
  ['StorageError', new StorageError('disk on fire'), 503],
  ['PushError 409', new PushError('ERR_PUSH_TOPIC_CHANGED', 'topic'), 409],
  ['CertificateAuthorityError 500', new CertificateAuthorityError('ERR_CA_FILE', '/etc'), 500],
  ['SecretsError', new SecretsError('ERR_SECRET_OPEN', 'tampered'), 500],
  ['IdentityError', new IdentityError('ERR_NO_BINDING', 'none'), 409],
];

const FORMATS: ErrorFormat[] = ['mdm', 'admin', 'scep'];

describe('renderError', () => {
  test.each(
    SUBCLASSES.flatMap(([name, error, status]) =>
      FORMATS.map((f) => [name, f, error, status] as const),
    ),
  )('ok/%s in %s keeps its status and code', (_, format, error, status) => {
    const out = renderError(error, format, recorder());
    expect(out.status).toBe(status);
    const message = error.expose ? error.message : hiddenMessage(status);
    if (format === 'scep') {
      expect(out.headers['content-type']).toBe('text/plain; charset=utf-8');
      expect(text(out.body)).toBe(`${error.code}: ${message}\n`);
    } else {
      expect(out.headers['content-type']).toMatch(/^application\/json/);
      expect(json(out.body)).toMatchObject({ code: error.code, message });
    }
  });

  test.each(FORMATS)('fail/a 401 never escapes (%s): 500 ERR_INTERNAL', (format) => {
    const log = recorder();
    const out = renderError(new Forced401('unenroll me'), format, log);
    expect(out.status).toBe(500);
    expect(text(out.body)).toContain('ERR_INTERNAL');
    expect(text(out.body)).not.toContain('unenroll me');
    expect(log.lines.map((l) => l.level)).toEqual(['error']);
  });

  test.each(FORMATS)('fail/an unknown error (%s) is 500 without message or stack', (format) => {
    const log = recorder();
    const error = new Error('secret detail');
    const out = renderError(error, format, log);
    expect(out.status).toBe(500);
    const body = text(out.body);
    expect(body).toContain('ERR_INTERNAL');
    expect(body).toContain(hiddenMessage(500));
    expect(body).not.toContain('secret detail');
    expect(body).not.toContain('at ');
    expect(log.lines).toEqual([expect.objectContaining({ level: 'error', obj: { err: error } })]);
  });

  test('fail/a start-up error that reaches a request is 500 ERR_INTERNAL', () => {
    const out = renderError(new ConfigError('--listen', 'bad address'), 'admin', recorder());
    expect(out.status).toBe(500);
    expect(json(out.body)).toEqual({ code: 'ERR_INTERNAL', message: hiddenMessage(500) });
  });

  test.each([
    ['fail/a thrown string', 'oops'],
    ['fail/undefined', undefined],
    ['fail/null', null],
  ])('%s is 500 ERR_INTERNAL', (_, thrown) => {
    const out = renderError(thrown, 'mdm', recorder());
    expect(out.status).toBe(500);
    expect(json(out.body)).toEqual({ code: 'ERR_INTERNAL', message: hiddenMessage(500) });
  });

  test('ok/UnrecognizedDeviceError is 403 com.apple.unrecognized.device for a device', () => {
    const out = renderError(new UnrecognizedDeviceError('forgotten'), 'mdm', recorder());
    expect(out.status).toBe(403);
    expect(json(out.body)).toEqual({ code: 'com.apple.unrecognized.device' });
  });

  test('ok/UnrecognizedDeviceError in SCEP text keeps its own code', () => {
    const out = renderError(new UnrecognizedDeviceError('forgotten'), 'scep', recorder());
    expect(out.status).toBe(403);
    expect(text(out.body)).toBe('ERR_UNRECOGNIZED_DEVICE: forgotten\n');
  });

  test('ok/SCEP text shape: CODE: message and a newline', () => {
    const out = renderError(
      new ScepError('ERR_SCEP_OPERATION', 'unknown operation'),
      'scep',
      recorder(),
    );
    expect(out).toEqual({
      status: 400,
      headers: { 'content-type': 'text/plain; charset=utf-8' },
      body: Buffer.from('ERR_SCEP_OPERATION: unknown operation\n'),
    });
  });

  test('ok/admin adds the field at fault and validation issues; MDM does not', () => {
    const field = new AdminError('ERR_BAD_REQUEST', 'bad cursor', { field: 'cursor' });
    expect(json(renderError(field, 'admin', recorder()).body)).toEqual({
      code: 'ERR_BAD_REQUEST',
      message: 'bad cursor',
      field: 'cursor',
    });
    const issue = {
      path: 'X',
      code: 'unknown-key',
      message: 'unknown',
      severity: 'error',
    } as const;
    const invalid = new ValidationError('invalid command', [issue]);
    expect(json(renderError(invalid, 'admin', recorder()).body)).toEqual({
      code: 'ERR_VALIDATION',
      message: 'invalid command',
      issues: [issue],
    });
    expect(json(renderError(invalid, 'mdm', recorder()).body)).toEqual({
      code: 'ERR_VALIDATION',
      message: 'invalid command',
    });
  });

  test('ok/an AdminError 503 shows its own message (written for the client)', () => {
    const out = renderError(
      new AdminError('ERR_PUSH_DISABLED', 'how to get one'),
      'admin',
      recorder(),
    );
    expect(out.status).toBe(503);
    expect(json(out.body)).toEqual({ code: 'ERR_PUSH_DISABLED', message: 'how to get one' });
  });

  test.each([
    ['ok/4xx is logged at info', new DeviceAuthError('ERR_CERT_CHAIN', 'untrusted'), 'info'],
    ['ok/5xx is logged at error', new StorageError('down'), 'error'],
  ])('%s', (_, error, level) => {
    const log = recorder();
    renderError(error, 'mdm', log);
    expect(log.lines).toEqual([
      expect.objectContaining({ level, obj: expect.objectContaining({ code: error.code }) }),
    ]);
  });

  test.each([
    ['ok/200 stays', 200, 200],
    ['ok/403 stays', 403, 403],
    ['ok/503 stays', 503, 503],
    ['fail/401 becomes 500', 401, 500],
  ])('safeStatus: %s', (_, given, written) => {
    expect(safeStatus(given)).toBe(written);
  });
});
