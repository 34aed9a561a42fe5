/**
 * What the simulated device sends, checked against Apple's schema: every responder's answer on
 * every platform, and the check-in messages, give no error-level issue.
 */
import { describe, expect, test } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { generateKeyPairSync } from 'node:crypto';
import {
  createTransientCertificate,
  validateCheckin,
  validateCommandResponse,
  type PlistDict,
} from '../../src/index.js';
import { authenticateMessage, tokenUpdateMessage } from '../../src/sim/checkin.js';
import {
  answerCommand,
  RESPONDERS,
  type SimCommandContext,
  type SimPlatform,
} from '../../src/sim/index.js';
import { createProfileStore } from '../../src/sim/profiles.js';

// An EC key keeps this file fast; nothing here needs RSA.
const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const certificate = createTransientCertificate(privateKey, 'CN=schema device');
const PLATFORMS: SimPlatform[] = ['iOS', 'iPadOS', 'macOS'];
const QUERY_ONLY = new Set(['InstallProfile', 'RemoveProfile']);

function context(platform: SimPlatform): SimCommandContext {
  return {
    platform,
    osVersion: platform === 'macOS' ? '15.1' : '18.1',
    userEnrollment: false,
    supervised: true,
    udid: 'UDID-SCHEMA',
    serialNumber: 'SERIALSCHEMA',
    deviceName: 'Schema device',
    profiles: createProfileStore(() => ({ platform, supervised: true, enrollment: 'device' })),
    identity: () => ({ certificate, privateKey }),
    certificates: () => [certificate],
    renewIdentity: () => Promise.resolve(),
    unenroll: () => Promise.resolve(),
  };
}

const cases = PLATFORMS.flatMap((platform) =>
  Object.keys(RESPONDERS)
    .filter((type) => !QUERY_ONLY.has(type))
    .map((type) => [platform, type] as const),
);

/** Check-in facts of a device on `platform`, known by `keys`. */
function checkinFacts(
  platform: SimPlatform,
  keys: Record<string, string>,
  userEnrollment: boolean,
) {
  return {
    keys,
    userEnrollment,
    serialNumber: 'SERIALSCHEMA',
    platform,
    osVersion: platform === 'macOS' ? '15.1' : '18.1',
    deviceName: 'Schema device',
    topic: 'com.apple.mgmt.External.test',
    pushToken: randomBytes(32),
    pushMagic: 'MAGIC',
  };
}

describe('answers shaped by Apple’s schema', () => {
  test.each(cases)('ok/%s %s', async (platform, type) => {
    const answer = await answerCommand({ RequestType: type }, context(platform));
    expect(answer.status).toBe('Acknowledged');
    const report: PlistDict = {
      ...(answer.fields ?? {}),
      UDID: 'UDID-SCHEMA',
      CommandUUID: 'C1',
      Status: 'Acknowledged',
    };
    const errors = validateCommandResponse(type, report).filter((i) => i.severity === 'error');
    expect(errors).toEqual([]);
  });

  test.each(PLATFORMS)('ok/%s check-in messages', (platform) => {
    const facts = checkinFacts(platform, { UDID: 'UDID-SCHEMA' }, false);
    for (const message of [authenticateMessage(facts), tokenUpdateMessage(facts)]) {
      const errors = validateCheckin(message, {
        platform: platform === 'macOS' ? 'macOS' : 'iOS',
        enrollment: 'device',
      }).filter((i) => i.severity === 'error');
      expect(errors).toEqual([]);
    }
  });
});

test.each(PLATFORMS)(
  'ok/%s User Enrollment check-ins carry EnrollmentID and no serial number',
  (platform) => {
    const facts = checkinFacts(platform, { EnrollmentID: 'ENROLLMENT-ID' }, true);
    const authenticate = authenticateMessage(facts);
    expect(authenticate.SerialNumber).toBeUndefined();
    for (const message of [authenticate, tokenUpdateMessage(facts)]) {
      const errors = validateCheckin(message, {
        platform: platform === 'macOS' ? 'macOS' : 'iOS',
        enrollment: 'user',
      }).filter((i) => i.severity === 'error');
      expect(errors).toEqual([]);
    }
  },
);
