/**
 * B1: the explain trace of one profile on one device, built from the real planner pieces
 * (target, compatibility, variables, removal controls) as the delivery service builds them.
 * Each scenario asserts its summary and the fields it is about; whole traces are compared with
 * golden files at the service level, in test/golden/explain/.
 */
import { describe, expect, test } from '@jest/globals';
import { judgeCompatibility } from '../../../src/management/delivery/compatibility.js';
import { buildExplainTrace, type ExplainInput } from '../../../src/management/delivery/explain.js';
import { applyRemovalControl } from '../../../src/management/delivery/removal-control.js';
import type {
  DesiredProfile,
  DeviceContext,
  EffectivePolicy,
  ExplainGroup,
} from '../../../src/management/delivery/types.js';
import { resolveVariables, variablesIn } from '../../../src/management/delivery/variables.js';
import type { PlistDict } from '../../../src/protocol/plist.js';
import type { DeviceProfileRecord, LibraryProfileRecord } from '../../../src/storage/ports.js';
import {
  context,
  desired,
  deviceRecord,
  enrollment,
  fixtureProfile,
  GROUP,
  IPHONE_FACTS,
  libraryProfile,
  POLICY,
} from './support.js';

/** Sales under Global; Sales overrides profile-options, Global holds the default policy. */
const GROUPS: ExplainGroup[] = [
  {
    groupId: GROUP.id,
    name: GROUP.name,
    settings: [
      {
        page: 'profile-options',
        currentSetting: 'override',
        sourceGroupId: GROUP.id,
        values: { interactiveEnabled: true },
      },
    ],
  },
  {
    groupId: 'global',
    name: 'Global',
    policyId: POLICY.id,
    settings: [
      {
        page: 'profile-options',
        currentSetting: 'override',
        sourceGroupId: 'global',
        values: { interactiveEnabled: false },
      },
    ],
  },
];
const FROM_GLOBAL: EffectivePolicy = {
  policy: POLICY,
  source: { kind: 'group', groupId: 'global' },
};

const supervisedIphone = context(enrollment({ ...IPHONE_FACTS, IsSupervised: true }));
const unsupervisedIphone = context();
const userEnrolledIphone = context(
  enrollment(
    { OSVersion: '17.4', ProductName: 'iPhone16,1', Model: 'iPhone16,1', IsSupervised: false },
    'user-enrollment-device',
    'ENROLLMENT-ID-0001',
  ),
);

/** A wifi profile whose SSID names the device's serial number. */
function serialWifi(): PlistDict {
  const wifi = fixtureProfile('wifi');
  const [payload] = wifi.PayloadContent as PlistDict[];
  return { ...wifi, PayloadContent: [{ ...payload, SSID_STR: 'Office-$SERIAL' }] };
}

/** The explain input the delivery service would build for `want` on `device`. */
function inputFor(
  device: DeviceContext,
  content: PlistDict,
  want: DesiredProfile | undefined,
  profile: LibraryProfileRecord,
  record?: DeviceProfileRecord,
): ExplainInput {
  return {
    device,
    identifier: profile.identifier,
    groups: GROUPS,
    policy: FROM_GLOBAL,
    ...(want ? { desired: want } : {}),
    profile,
    verdict: judgeCompatibility(content, device.target),
    variables: resolveVariables(variablesIn(content), device).resolutions,
    ...(record ? { record } : {}),
    ...(want
      ? { removalEffect: applyRemovalControl(content, want.assignment, device.target).effect }
      : {}),
  };
}

const wifi = libraryProfile('wifi', 2);
const restrictions = libraryProfile('restrictions', 1);
const fonts = libraryProfile('fonts', 1, 'interactive');
const serial = libraryProfile('serial-wifi', 1);

const SCENARIOS: Record<string, () => ExplainInput> = {
  'auto-installed': () =>
    inputFor(supervisedIphone, fixtureProfile('wifi'), desired(wifi), wifi, {
      ...deviceRecord(wifi, 'installed'),
      payloadUuid: 'CD5422AB-52FC-5EEF-A60B-99F047051F47',
      installedAt: new Date('2026-12-07T04:00:05.000Z'),
    }),
  'interactive-offered': () =>
    inputFor(supervisedIphone, fixtureProfile('wifi'), desired(fonts, 'interactive'), fonts),
  'skipped-supervised-only': () =>
    inputFor(
      unsupervisedIphone,
      fixtureProfile('restrictions'),
      desired(restrictions),
      restrictions,
      deviceRecord(restrictions, 'skipped', {
        reason: judgeCompatibility(fixtureProfile('restrictions'), unsupervisedIphone.target)
          .reason!,
      }),
    ),
  'blocked-serial-user-enrollment': () =>
    inputFor(
      userEnrolledIphone,
      serialWifi(),
      desired(serial),
      serial,
      deviceRecord(serial, 'blocked', {
        enrollmentId: 'ENROLLMENT-ID-0001',
        reason: 'unresolved variable $SERIAL',
      }),
    ),
  'removal-never-unsupervised': () =>
    inputFor(
      unsupervisedIphone,
      fixtureProfile('wifi'),
      desired(wifi, 'auto', 'never'),
      wifi,
      deviceRecord(wifi, 'pending', { commandUuid: 'cmd-0001' }),
    ),
  'not-assigned': () =>
    inputFor(
      supervisedIphone,
      fixtureProfile('wifi'),
      undefined,
      wifi,
      deviceRecord(wifi, 'installed', { version: 1 }),
    ),
};

const MDM_ONLY =
  'only the MDM can remove it, or unenrolling the device (rule 3: a profile installed by an MDM is removed only by that MDM or by unenrolling)';
const SUPERVISED_ONLY =
  'allowAppClips needs a supervised device; allowVPNCreation needs a supervised device; allowPersonalHotspotModification needs a supervised device; and 1 more';

/** What each scenario is about: its summary and the fields that make it that case. */
const EXPECTED: Record<string, Record<string, unknown>> = {
  'auto-installed': {
    summary: 'Auto: installed by Orchard (version 2, acknowledged by the device)',
    assignment: { policyId: POLICY.id, assignmentType: 'auto', removal: 'always' },
    record: { state: 'installed', reason: null, version: 2, channel: 'policy' },
    removal: { control: 'always', user: MDM_ONLY },
  },
  'interactive-offered': {
    summary: 'Interactive: installed only when the user starts it in the self-service portal',
    assignment: { assignmentType: 'interactive' },
    record: null,
  },
  'skipped-supervised-only': {
    summary: `Skipped: not sent to this device because ${SUPERVISED_ONLY}`,
    device: { supervised: false, enrollment: 'device' },
    record: { state: 'skipped', reason: SUPERVISED_ONLY },
  },
  'blocked-serial-user-enrollment': {
    summary: 'Blocked: not sent to this device because of unresolved variable $SERIAL',
    enrollmentId: 'ENROLLMENT-ID-0001',
    device: { type: 'user-enrollment-device', enrollment: 'user' },
    variables: [
      { name: '$SERIAL', resolved: false, source: 'enrollment fact SerialNumber: not reported' },
    ],
    record: { state: 'blocked', reason: 'unresolved variable $SERIAL' },
  },
  'removal-never-unsupervised': {
    summary: 'Auto: InstallProfile for version 2 is queued, waiting for the device',
    assignment: { removal: 'never' },
    removal: { control: 'never', effect: 'not honoured: the device is not supervised' },
    record: { state: 'pending', version: 2 },
  },
  'not-assigned': {
    summary:
      'Not assigned: the effective policy "Sales phones" does not include this profile; Orchard sent it, so it is removed',
    policy: { id: POLICY.id, source: { kind: 'group', groupId: 'global' } },
    assignment: null,
    removal: null,
    record: { state: 'installed', version: 1 },
  },
};

describe('B1 explain traces', () => {
  test.each(Object.keys(SCENARIOS))('ok/B1 %s: its summary and the fields it is about', (name) => {
    const input = SCENARIOS[name]!();
    const trace = buildExplainTrace(input);
    expect(trace).toMatchObject({ identifier: input.identifier, ...EXPECTED[name] });
    const failing = trace.compatibility.filter((c) => !c.ok);
    expect(failing).toEqual(
      name === 'skipped-supervised-only'
        ? [{ check: 'supervision', ok: false, detail: SUPERVISED_ONLY }]
        : [],
    );
  });
});

describe('B1 decisions and sentences', () => {
  test('B1 the decisions of the golden scenarios, in one word each', () => {
    const decisions = Object.fromEntries(
      Object.entries(SCENARIOS).map(([name, make]) => [name, buildExplainTrace(make()).decision]),
    );
    expect(decisions).toEqual({
      'auto-installed': 'installed',
      'interactive-offered': 'offered',
      'skipped-supervised-only': 'skipped',
      'blocked-serial-user-enrollment': 'blocked',
      'removal-never-unsupervised': 'pending',
      'not-assigned': 'not-assigned',
    });
  });

  test('B1 Interactive says so in words; turned off at the device’s group it is not offered now', () => {
    const input = SCENARIOS['interactive-offered']!();
    expect(buildExplainTrace(input).summary).toBe(
      'Interactive: installed only when the user starts it in the self-service portal',
    );
    const off = buildExplainTrace({ ...input, groups: GROUPS.slice(1) });
    expect(off.summary).toMatch(/turned off for the device’s group/);
  });

  test('B1 an unassigned device: no user, no policy', () => {
    const device = context(enrollment(), false);
    const trace = buildExplainTrace({
      device,
      identifier: wifi.identifier,
      groups: [],
      policy: { source: { kind: 'none' } },
      variables: [],
    });
    expect(trace).toMatchObject({
      decision: 'not-assigned',
      summary: 'Not assigned: no user owns this enrollment, so it has no policy',
      user: null,
      policy: null,
      assignment: null,
      profile: null,
      removal: null,
      record: null,
      compatibility: [],
    });
  });

  test('B1 Auto removed on the device comes back at reconciliation; Optional stays removed', () => {
    const record = deviceRecord(wifi, 'removed', { reason: 'removed on the device' });
    const auto = buildExplainTrace(
      inputFor(supervisedIphone, fixtureProfile('wifi'), desired(wifi), wifi, record),
    );
    expect(auto.decision).toBe('removed');
    expect(auto.summary).toMatch(/comes back at the next reconciliation/);
    const optional = buildExplainTrace(
      inputFor(supervisedIphone, fixtureProfile('wifi'), desired(wifi, 'optional'), wifi, record),
    );
    expect(optional.summary).toMatch(/stays removed/);
  });

  test('B1 an Auto profile not yet there will be installed; an older version will be updated', () => {
    const fresh = buildExplainTrace(
      inputFor(supervisedIphone, fixtureProfile('wifi'), desired(wifi), wifi),
    );
    expect(fresh.decision).toBe('install');
    const old = buildExplainTrace(
      inputFor(
        supervisedIphone,
        fixtureProfile('wifi'),
        desired(wifi),
        wifi,
        deviceRecord(wifi, 'installed', { version: 1 }),
      ),
    );
    expect(old).toMatchObject({ decision: 'install' });
    expect(old.summary).toMatch(/version 1 is on the device; version 2 is queued/);
  });

  test('B1 who may remove it comes from canRemove on the device', () => {
    const macPre1015 = context(
      enrollment({ ProductName: 'Mac14,2', OSVersion: '10.14.6', IsSupervised: false }),
    );
    const trace = buildExplainTrace(
      inputFor(macPre1015, fixtureProfile('wifi'), desired(wifi), wifi),
    );
    expect(trace.removal?.user).toMatch(
      /^the user can remove it with an administrator’s name and password \(rule 3/,
    );
    const supervisedNever = buildExplainTrace(
      inputFor(supervisedIphone, fixtureProfile('wifi'), desired(wifi, 'auto', 'never'), wifi),
    );
    expect(supervisedNever.removal).toMatchObject({
      control: 'never',
      effect: 'PayloadRemovalDisallowed is set',
    });
    expect(supervisedNever.removal?.user).toMatch(/^only the MDM can remove it/);
  });

  test('B1 the trace is plain JSON: it survives a round trip unchanged', () => {
    for (const make of Object.values(SCENARIOS)) {
      const trace = buildExplainTrace(make());
      expect(JSON.parse(JSON.stringify(trace))).toEqual(trace);
    }
  });
});
