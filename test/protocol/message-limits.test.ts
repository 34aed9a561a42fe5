/**
 * The per-kind decoding budgets (CHECKIN_LIMITS, REPORT_LIMITS) fit every device message in
 * fixtures/messages, XML and binary, and refuse what lies past them.
 */
import { describe, expect, test } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { CHECKIN_LIMITS, decodeCheckin } from '../../src/protocol/checkin.js';
import { REPORT_LIMITS, decodeReport } from '../../src/protocol/command.js';
import { encodePlist, type PlistValue } from '../../src/protocol/plist.js';

interface Fixture {
  name: string;
  kind: 'checkin' | 'report';
}

const dir = 'fixtures/messages';
const manifest = JSON.parse(readFileSync(`${dir}/manifest.json`, 'utf8')) as Fixture[];
const files = manifest.flatMap((f) =>
  ['plist', 'bplist'].map((ext) => [`${f.name}.${ext}`, f.kind] as const),
);

/** `levels` dictionaries inside each other; inside a root dictionary they reach depth levels + 1. */
function nested(levels: number): PlistValue {
  let value: PlistValue = 'leaf';
  for (let i = 0; i < levels; i++) value = { Inner: value };
  return value;
}

describe('device message budgets', () => {
  test.each(files)('ok/%s decodes within its kind’s budget', (file, kind) => {
    const body = readFileSync(`${dir}/${file}`);
    const limits = kind === 'checkin' ? CHECKIN_LIMITS : REPORT_LIMITS;
    expect(body.length).toBeLessThanOrEqual(limits.maxBytes / 8);
    if (kind === 'checkin') expect(decodeCheckin(body).message.MessageType).toBeDefined();
    else expect(decodeReport(body).Status).toBeDefined();
  });

  test.each([
    [
      'check-in one level too deep',
      () =>
        decodeCheckin(
          encodePlist({ MessageType: 'CheckOut', UDID: 'U', X: nested(CHECKIN_LIMITS.maxDepth) }),
        ),
      'ERR_PLIST_DEPTH',
    ],
    [
      'check-in with too many values',
      () =>
        decodeCheckin(
          encodePlist({
            MessageType: 'CheckOut',
            UDID: 'U',
            X: Array(CHECKIN_LIMITS.maxItems).fill(1),
          }),
        ),
      'ERR_PLIST_TOO_LARGE',
    ],
    [
      'check-in past its bytes',
      () =>
        decodeCheckin(
          encodePlist({
            MessageType: 'CheckOut',
            UDID: 'U',
            X: 'x'.repeat(CHECKIN_LIMITS.maxBytes),
          }),
        ),
      'ERR_PLIST_TOO_LARGE',
    ],
    [
      'report one level too deep',
      () => decodeReport(encodePlist({ Status: 'Idle', X: nested(REPORT_LIMITS.maxDepth) })),
      'ERR_PLIST_DEPTH',
    ],
    [
      'report with too many values',
      () =>
        decodeReport(
          encodePlist(
            { Status: 'Idle', X: Array(REPORT_LIMITS.maxItems).fill(true) },
            {
              format: 'binary',
            },
          ),
        ),
      'ERR_PLIST_TOO_LARGE',
    ],
  ])('fail/%s', (_name, decode, code) => {
    expect(decode).toThrow(expect.objectContaining({ code, status: 400 }));
  });

  test('ok/a check-in exactly at its depth budget decodes', () => {
    const body = encodePlist({
      MessageType: 'CheckOut',
      UDID: 'U',
      X: nested(CHECKIN_LIMITS.maxDepth - 1),
    });
    expect(decodeCheckin(body).known).toBe(true);
  });
});
