import { describe, expect, test } from '@jest/globals';
import { ValidationError } from '../../src/errors.js';
import type { PlistDict } from '../../src/protocol/plist.js';
import {
  buildCommand,
  validateCheckin,
  validateCommand,
  validateCommandResponse,
} from '../../src/schema/commands.js';
import type { Target } from '../../src/schema/target.js';

const errors = (command: PlistDict, target?: Target): [string, string][] =>
  validateCommand(command, target)
    .filter((i) => i.severity === 'error')
    .map((i) => [i.path, i.code]);

describe('validateCommand', () => {
  test.each<[string, PlistDict, Target | undefined]>([
    [
      'ok/DeviceInformation',
      { RequestType: 'DeviceInformation', Queries: ['DeviceName', 'OSVersion'] },
      undefined,
    ],
    [
      'ok/DeviceLock with PIN on macOS',
      { RequestType: 'DeviceLock', PIN: '123456' },
      { platform: 'macOS', osVersion: '14.5' },
    ],
    [
      'ok/Settings with a known variant',
      { RequestType: 'Settings', Settings: [{ Item: 'DeviceName', DeviceName: 'x' }] },
      undefined,
    ],
    [
      'ok/InstallProfile',
      { RequestType: 'InstallProfile', Payload: new Uint8Array([1, 2]) },
      { platform: 'iOS', osVersion: '17.0' },
    ],
  ])('%s', (_name, command, target) => {
    expect(errors(command, target)).toEqual([]);
  });

  test.each<[string, PlistDict, Target | undefined, [string, string][]]>([
    [
      'fail/unknown RequestType',
      { RequestType: 'MakeCoffee' },
      undefined,
      [['RequestType', 'unknown-request-type']],
    ],
    ['fail/missing RequestType', { Queries: [] }, undefined, [['RequestType', 'missing-key']]],
    [
      'fail/unknown key',
      { RequestType: 'DeviceLock', Pin: '1' },
      undefined,
      [['Pin', 'unknown-key']],
    ],
    [
      'fail/rangelist',
      { RequestType: 'EraseDevice', ObliterationBehavior: 'Sometimes' },
      undefined,
      [['ObliterationBehavior', 'not-in-rangelist']],
    ],
    [
      'fail/missing required key',
      { RequestType: 'InstallProfile' },
      undefined,
      [['Payload', 'missing-key']],
    ],
    [
      'fail/wrong type',
      { RequestType: 'InstallProfile', Payload: 'AQI=' },
      undefined,
      [['Payload', 'wrong-type']],
    ],
    [
      'fail/enumerated value',
      { RequestType: 'DeviceInformation', Queries: ['DeviceName', 'Nope'] },
      undefined,
      [['Queries[1]', 'not-in-rangelist']],
    ],
    [
      'fail/polymorphic array with no matching variant',
      { RequestType: 'Settings', Settings: [{ Item: 'Bogus' }] },
      undefined,
      [['Settings[0]', 'unknown-variant']],
    ],
    [
      'fail/key not on the platform',
      { RequestType: 'DeviceLock', PIN: '123456' },
      { platform: 'iOS', osVersion: '17.5' },
      [['PIN', 'unavailable']],
    ],
    [
      'fail/command not on the platform',
      { RequestType: 'DeviceLock' },
      { platform: 'tvOS', osVersion: '17.0' },
      [['', 'unavailable']],
    ],
    [
      'fail/query forbidden in User Enrollment',
      { RequestType: 'DeviceInformation', Queries: ['UDID'] },
      { platform: 'iOS', osVersion: '17.0', enrollment: 'user' },
      [['Queries[0]', 'forbidden-in-user-enrollment']],
    ],
  ])('%s', (_name, command, target, expected) => {
    expect(errors(command, target)).toEqual(expected);
  });
});

describe('buildCommand', () => {
  test('ok/returns the Command dictionary with RequestType first', () => {
    const command = buildCommand('DeviceLock', { PIN: '123456', Message: 'Lost' });
    expect(command).toEqual({ RequestType: 'DeviceLock', PIN: '123456', Message: 'Lost' });
    expect(Object.keys(command)[0]).toBe('RequestType');
  });

  test('fail/invalid keys throw ValidationError with every issue', () => {
    const call = (): unknown =>
      buildCommand('EraseDevice', {
        ObliterationBehavior: 'Sometimes' as 'Default',
        PIN: 7 as unknown as string,
      });
    expect(call).toThrow(ValidationError);
    try {
      call();
    } catch (error) {
      expect((error as ValidationError).code).toBe('ERR_VALIDATION');
      expect((error as ValidationError).issues.map((i) => i.code)).toEqual([
        'not-in-rangelist',
        'wrong-type',
      ]);
    }
  });

  test('fail/unknown request type is API misuse (TypeError)', () => {
    expect(() => buildCommand('MakeCoffee' as 'DeviceLock', {})).toThrow(TypeError);
  });
});

describe('check-ins and replies (lenient)', () => {
  test('ok/unknown keys in a check-in are warnings', () => {
    const issues = validateCheckin({
      MessageType: 'Authenticate',
      Topic: 't',
      UDID: 'u',
      DeviceName: 'd',
      ModelName: 'm',
      Extra: 1,
    });
    expect(issues.filter((i) => i.severity === 'error')).toEqual([]);
    expect(issues.map((i) => [i.path, i.code])).toEqual([['Extra', 'unknown-key']]);
  });

  test.each<[string, PlistDict, [string, string][]]>([
    [
      'fail/unknown MessageType',
      { MessageType: 'Hello' },
      [['MessageType', 'unknown-message-type']],
    ],
    [
      'fail/wrong type in a check-in',
      { MessageType: 'TokenUpdate', Topic: 't', UDID: 'u', Token: 'not data', PushMagic: 'p' },
      [['Token', 'wrong-type']],
    ],
  ])('%s', (_name, message, expected) => {
    expect(
      validateCheckin(message)
        .filter((i) => i.severity === 'error')
        .map((i) => [i.path, i.code]),
    ).toEqual(expected);
  });

  test('ok/a DeviceInformation reply with common keys', () => {
    const reply = {
      Status: 'Acknowledged',
      UDID: 'u',
      CommandUUID: 'c',
      QueryResponses: { DeviceName: 'x' },
    };
    expect(validateCommandResponse('DeviceInformation', reply)).toEqual([]);
  });

  test('fail/reply with a wrong type', () => {
    const reply = { Status: 'Acknowledged', QueryResponses: 'x' };
    expect(validateCommandResponse('DeviceInformation', reply).map((i) => i.code)).toEqual([
      'wrong-type',
    ]);
  });
});

describe('validateCommand: deprecated query values', () => {
  const command: PlistDict = {
    RequestType: 'DeviceInformation',
    Queries: ['DeviceName', 'IsActivationLockEnabled'],
  };
  const lifecycle = (target?: Target): [string, string, string][] =>
    validateCommand(command, target)
      .filter((i) => i.code === 'deprecated')
      .map((i) => [i.path, i.severity, i.message]);

  test.each<[string, Target | undefined, [string, string, string][]]>([
    [
      'ok/without a target: a warning listing the versions',
      undefined,
      [
        [
          'Queries[1]',
          'warning',
          'IsActivationLockEnabled is deprecated since iOS 16.0, macOS 13.0, watchOS 10.0',
        ],
      ],
    ],
    [
      'ok/on iOS 17: a warning',
      { platform: 'iOS', osVersion: '17.0' },
      [['Queries[1]', 'warning', 'IsActivationLockEnabled is deprecated since iOS 16.0']],
    ],
    ['ok/on iOS 15: nothing', { platform: 'iOS', osVersion: '15.0' }, []],
  ])('%s', (_name, target, expected) => {
    expect(lifecycle(target)).toEqual(expected);
  });
});
