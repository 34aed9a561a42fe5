/**
 * The per-device planner, rule by rule (M5 assignment types, M6 provenance and versions, M7
 * compatibility, S3 variables, S4 the per-device lists, reconciliation).
 */
import { describe, expect, test } from '@jest/globals';
import { planDevice, type PlanInput } from '../../../src/management/delivery/plan.js';
import type {
  CompatibilityVerdict,
  DesiredProfile,
} from '../../../src/management/delivery/types.js';
import type { DeviceProfileRecord } from '../../../src/storage/ports.js';
import { context, desired, deviceRecord, libraryProfile } from './support.js';

const OK: CompatibilityVerdict = { ok: true, checks: [] };
const SUPERVISED_ONLY: CompatibilityVerdict = {
  ok: false,
  checks: [{ check: 'supervision', ok: false, detail: 'allowAppClips needs a supervised device' }],
  reason: 'allowAppClips needs a supervised device',
};

const wifi = libraryProfile('wifi', 1);
const vpn = libraryProfile('vpn', 3);
const mail = libraryProfile('mail', 2, 'optional');
const fonts = libraryProfile('fonts', 1, 'interactive');

interface Options {
  records?: DeviceProfileRecord[];
  verdict?: (d: DesiredProfile) => CompatibilityVerdict;
  unresolved?: (d: DesiredProfile) => readonly string[];
  onDevice?: Record<string, string>;
}

/** Plans `want` against `records`, counting compatibility judgements. */
function plan(want: DesiredProfile[], o: Options = {}) {
  let judged = 0;
  const input: PlanInput = {
    device: context(),
    desired: want,
    records: o.records ?? [],
    judge: (d) => {
      judged++;
      return o.verdict?.(d) ?? OK;
    },
    unresolved: (d) => o.unresolved?.(d) ?? [],
    ...(o.onDevice
      ? {
          onDevice: new Map(
            Object.entries(o.onDevice).map(([id, payloadUuid]) => [id, { payloadUuid }]),
          ),
        }
      : {}),
  };
  return { plan: planDevice(input), judged: () => judged };
}

describe('M5 assignment types', () => {
  test('M5 an Auto profile with no record is installed (added, channel policy)', () => {
    const { plan: p } = plan([desired(vpn)]);
    expect(p.enrollmentId).toBe('UDID-0001');
    expect(p.added).toEqual(['com.example.vpn']);
    expect(p.actions).toEqual([
      {
        action: 'install',
        identifier: 'com.example.vpn',
        profileId: 'prf_vpn',
        version: 3,
        channel: 'policy',
        why: 'added',
      },
    ]);
  });

  test('M5 Optional and Interactive profiles are never queued automatically', () => {
    const { plan: p, judged } = plan([desired(mail, 'optional'), desired(fonts, 'interactive')]);
    expect(p.actions).toEqual([]);
    expect(judged()).toBe(0);
  });

  test('M5 the assignment type decides, not the library profile default', () => {
    const { plan: p } = plan([desired(mail, 'auto')]);
    expect(p.added).toEqual(['com.example.mail']);
  });
});

describe('M6 provenance and versions', () => {
  test('M6 Auto installed or pending at an older version is updated; at the latest it is kept', () => {
    const { plan: p, judged } = plan([desired(vpn), desired(wifi)], {
      records: [deviceRecord(vpn, 'installed', { version: 2 }), deviceRecord(wifi, 'pending')],
    });
    expect(p.updated).toEqual(['com.example.vpn']);
    expect(p.unchanged).toEqual(['com.example.wifi']);
    expect(p.actions[0]).toMatchObject({ action: 'install', version: 3, why: 'updated' });
    expect(judged()).toBe(1);
  });

  test('M6 an Optional profile is updated only where the device has it, on its own channel', () => {
    const { plan: p } = plan([desired(mail, 'optional'), desired(fonts, 'interactive')], {
      records: [
        deviceRecord(mail, 'installed', { version: 1, channel: 'user' }),
        deviceRecord(fonts, 'installed', { channel: 'user' }),
      ],
    });
    expect(p.updated).toEqual(['com.example.mail']);
    expect(p.unchanged).toEqual(['com.example.fonts']);
    expect(p.actions.find((a) => a.identifier === 'com.example.mail')).toMatchObject({
      channel: 'user',
      version: 2,
    });
  });

  test('M6 an Optional profile the user removed, or that failed, is not sent again', () => {
    const { plan: p } = plan([desired(mail, 'optional')], {
      records: [deviceRecord(mail, 'failed', { version: 1, channel: 'user' })],
    });
    expect(p.actions).toEqual([]);
  });

  test('M6 unassigned records Orchard sent (installed, pending, failed) are removed; others are not', () => {
    const others = ['a', 'b', 'c', 'd', 'e', 'f', 'g'].map((n) => libraryProfile(n));
    const states = [
      'installed',
      'pending',
      'failed',
      'skipped',
      'blocked',
      'removing',
      'removed',
    ] as const;
    const { plan: p } = plan([], { records: others.map((o, i) => deviceRecord(o, states[i]!)) });
    expect(p.removed).toEqual(['com.example.a', 'com.example.b', 'com.example.c']);
    expect(p.actions.every((a) => a.action === 'remove')).toBe(true);
  });

  test('M6 a profile someone else installed (no record) is never removed', () => {
    const { plan: p } = plan([desired(wifi)], {
      records: [deviceRecord(wifi, 'installed')],
      onDevice: { 'com.example.wifi': 'X', 'com.other.mdm.vpn': 'Y', 'com.apple.mdm': 'Z' },
    });
    expect(p.actions).toEqual([
      { action: 'keep', identifier: 'com.example.wifi', profileId: 'prf_wifi' },
    ]);
  });

  test('M6 Auto removed by Orchard (reassigned) is installed again; failed at an older version too', () => {
    const { plan: p } = plan([desired(vpn), desired(wifi)], {
      records: [
        deviceRecord(vpn, 'failed', { version: 2 }),
        deviceRecord(wifi, 'removed', { reason: 'unassigned' }),
      ],
    });
    expect(p.added).toEqual(['com.example.vpn', 'com.example.wifi']);
  });

  test('M6 Auto failed at the latest version is not retried', () => {
    const { plan: p } = plan([desired(vpn)], { records: [deviceRecord(vpn, 'failed')] });
    expect(p.unchanged).toEqual(['com.example.vpn']);
  });

  test('M6 Auto being removed (reassigned meanwhile) is installed again', () => {
    const { plan: p } = plan([desired(vpn)], { records: [deviceRecord(vpn, 'removing')] });
    expect(p.added).toEqual(['com.example.vpn']);
  });
});

describe('M7 compatibility', () => {
  test('M7 an incompatible Auto profile is skipped with the reason, not installed', () => {
    const { plan: p } = plan([desired(vpn)], { verdict: () => SUPERVISED_ONLY });
    expect(p.skipped).toEqual([
      { identifier: 'com.example.vpn', reason: 'allowAppClips needs a supervised device' },
    ]);
    expect(p.actions).toEqual([
      {
        action: 'skip',
        identifier: 'com.example.vpn',
        profileId: 'prf_vpn',
        version: 3,
        reason: 'allowAppClips needs a supervised device',
      },
    ]);
  });

  test('M7 a skipped record is re-decided: once compatible it is installed', () => {
    const records = [deviceRecord(vpn, 'skipped', { reason: 'platform not reported yet' })];
    expect(
      plan([desired(vpn)], { records, verdict: () => SUPERVISED_ONLY }).plan.skipped,
    ).toHaveLength(1);
    expect(plan([desired(vpn)], { records }).plan.added).toEqual(['com.example.vpn']);
  });

  test('M7 an update that became incompatible is skipped; a profile at its latest version is kept unjudged', () => {
    const { plan: p, judged } = plan([desired(vpn), desired(wifi)], {
      records: [deviceRecord(vpn, 'installed', { version: 1 }), deviceRecord(wifi, 'installed')],
      verdict: () => SUPERVISED_ONLY,
    });
    expect(p.skipped.map((s) => s.identifier)).toEqual(['com.example.vpn']);
    expect(p.unchanged).toEqual(['com.example.wifi']);
    expect(judged()).toBe(1);
  });
});

describe('S3 variables', () => {
  test('S3 an unresolved variable blocks the device, naming every unresolved one', () => {
    const { plan: p } = plan([desired(vpn), desired(wifi)], {
      unresolved: (d) => (d.profile.id === 'prf_vpn' ? ['$EMAIL'] : ['$SERIAL', '$UDID']),
    });
    expect(p.blocked).toEqual([
      { identifier: 'com.example.vpn', reason: 'unresolved variable $EMAIL' },
      { identifier: 'com.example.wifi', reason: 'unresolved variables $SERIAL, $UDID' },
    ]);
    expect(p.added).toEqual([]);
  });

  test('S3 a blocked record is re-decided: once resolved it is installed', () => {
    const { plan: p } = plan([desired(vpn)], { records: [deviceRecord(vpn, 'blocked')] });
    expect(p.added).toEqual(['com.example.vpn']);
  });

  test('S3 incompatibility is reported before unresolved variables', () => {
    const { plan: p } = plan([desired(vpn)], {
      verdict: () => SUPERVISED_ONLY,
      unresolved: () => ['$EMAIL'],
    });
    expect(p.skipped).toHaveLength(1);
    expect(p.blocked).toEqual([]);
  });
});

describe('reconciliation', () => {
  test('ok/an Auto profile missing on the device is reinstalled; Optional and Interactive stay removed', () => {
    const { plan: p } = plan(
      [desired(vpn), desired(mail, 'optional'), desired(fonts, 'interactive')],
      {
        records: [
          deviceRecord(vpn, 'installed'),
          deviceRecord(mail, 'installed', { channel: 'admin' }),
          deviceRecord(fonts, 'pending', { channel: 'user' }),
        ],
        onDevice: {},
      },
    );
    expect(p.actions.find((a) => a.identifier === 'com.example.vpn')).toMatchObject({
      action: 'install',
      why: 'reinstalled',
      channel: 'policy',
    });
    expect(p.added).toEqual(['com.example.vpn']);
    expect(p.unchanged).toEqual(['com.example.fonts', 'com.example.mail']);
  });

  test('ok/an Auto profile removed on the device comes back only when reconciling', () => {
    const records = [deviceRecord(vpn, 'removed', { reason: 'removed on the device' })];
    expect(plan([desired(vpn)], { records }).plan.unchanged).toEqual(['com.example.vpn']);
    const reconciling = plan([desired(vpn)], { records, onDevice: {} }).plan;
    expect(reconciling.actions[0]).toMatchObject({ action: 'install', why: 'reinstalled' });
  });

  test('ok/profiles present on the device are kept', () => {
    const { plan: p } = plan([desired(vpn)], {
      records: [deviceRecord(vpn, 'pending', { payloadUuid: 'U' })],
      onDevice: { 'com.example.vpn': 'U' },
    });
    expect(p.unchanged).toEqual(['com.example.vpn']);
  });
});

describe('S4 the per-device lists', () => {
  test('S4 one plan sorts every action by identifier into added, removed, updated, unchanged, skipped, blocked', () => {
    const old = libraryProfile('old');
    const { plan: p } = plan([desired(vpn), desired(wifi), desired(mail)], {
      records: [
        deviceRecord(old, 'installed'),
        deviceRecord(wifi, 'installed'),
        deviceRecord(mail, 'installed', { version: 1 }),
      ],
      unresolved: (d) => (d.profile.id === 'prf_vpn' ? ['$CUSTOM_1'] : []),
    });
    expect(p.actions.map((a) => `${a.action} ${a.identifier}`)).toEqual([
      'install com.example.mail',
      'remove com.example.old',
      'block com.example.vpn',
      'keep com.example.wifi',
    ]);
    expect(p).toMatchObject({
      added: [],
      removed: ['com.example.old'],
      updated: ['com.example.mail'],
      unchanged: ['com.example.wifi'],
      skipped: [],
      blocked: [{ identifier: 'com.example.vpn', reason: 'unresolved variable $CUSTOM_1' }],
    });
  });
});
