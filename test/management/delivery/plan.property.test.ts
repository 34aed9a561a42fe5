/**
 * Property tests of the planner over random desired sets and random records (any state, any
 * version, any channel): M6 (removals only where Orchard sent something, never for what the
 * policy assigns), M5 (Optional and Interactive never installed from nothing), one action per
 * desired Auto profile, and convergence (once every install is pending, nothing more is sent).
 * Runs are capped by ORCHARD_PROPERTY_RUNS.
 */
import { describe, expect, test } from '@jest/globals';
import fc from 'fast-check';
import { planDevice, type PlanInput } from '../../../src/management/delivery/plan.js';
import type { DesiredProfile } from '../../../src/management/delivery/types.js';
import type {
  AssignmentType,
  DeviceProfileRecord,
  DeviceProfileState,
} from '../../../src/storage/ports.js';
import { context, desired, deviceRecord, libraryProfile } from './support.js';

const RUNS = Number(process.env.ORCHARD_PROPERTY_RUNS ?? 100);

const NAMES = ['a', 'b', 'c', 'd', 'e', 'f'];
const STATES: DeviceProfileState[] = [
  'pending',
  'installed',
  'failed',
  'skipped',
  'blocked',
  'removing',
  'removed',
];
const TYPES: AssignmentType[] = ['auto', 'optional', 'interactive'];

const desiredArb = fc
  .subarray(NAMES)
  .chain((names) =>
    fc.tuple(
      fc.constant(names),
      fc.array(fc.constantFrom(...TYPES), { minLength: names.length, maxLength: names.length }),
      fc.array(fc.integer({ min: 1, max: 3 }), {
        minLength: names.length,
        maxLength: names.length,
      }),
    ),
  )
  .map(([names, types, versions]) =>
    names.map((n, i) => desired(libraryProfile(n, versions[i]), types[i])),
  );

const recordArb = fc.subarray(NAMES).chain((names) =>
  fc.tuple(
    ...names.map((n) =>
      fc.record({
        name: fc.constant(n),
        state: fc.constantFrom(...STATES),
        version: fc.integer({ min: 1, max: 3 }),
        channel: fc.constantFrom('policy' as const, 'admin' as const, 'user' as const),
        onDevice: fc.boolean(),
        byUser: fc.boolean(),
      }),
    ),
  ),
);

type RecordSpec = {
  name: string;
  state: DeviceProfileState;
  version: number;
  channel: DeviceProfileRecord['channel'];
  byUser: boolean;
};

const recordsOf = (specs: readonly RecordSpec[]) =>
  specs.map((s) =>
    deviceRecord(libraryProfile(s.name), s.state, {
      version: s.version,
      channel: s.channel,
      ...(s.state === 'removed' && s.byUser ? { reason: 'removed on the device' } : {}),
    }),
  );

function input(
  want: DesiredProfile[],
  records: DeviceProfileRecord[],
  blocked: Set<string>,
): PlanInput {
  return {
    device: context(),
    desired: want,
    records,
    judge: () => ({ ok: true, checks: [] }),
    unresolved: (d) => (blocked.has(d.profile.id) ? ['$EMAIL'] : []),
  };
}

describe('planner properties', () => {
  test('M6 M5 removals only where Orchard sent it; offered profiles never installed from nothing', () => {
    fc.assert(
      fc.property(desiredArb, recordArb, fc.boolean(), (want, specs, reconciling) => {
        const records = recordsOf(specs);
        const byId = new Map(records.map((r) => [r.identifier, r]));
        const wanted = new Map(want.map((d) => [d.profile.identifier, d]));
        const onDevice = new Map(
          specs
            .filter((s) => s.onDevice)
            .map((s) => [`com.example.${s.name}`, { payloadUuid: 'U' }]),
        );
        const plan = planDevice({
          ...input(want, records, new Set()),
          ...(reconciling ? { onDevice } : {}),
        });
        for (const a of plan.actions) {
          const r = byId.get(a.identifier);
          const d = wanted.get(a.identifier);
          if (a.action === 'remove') {
            expect(d).toBeUndefined();
            expect(['installed', 'pending', 'failed']).toContain(r?.state);
          } else {
            expect(d).toBeDefined();
          }
          if (a.action === 'install' && d?.assignment.assignmentType !== 'auto') {
            expect(['installed', 'pending']).toContain(r?.state);
            expect(a.why).toBe('updated');
          }
        }
        // Every desired Auto profile gets exactly one action; identifiers are unique.
        const ids = plan.actions.map((a) => a.identifier);
        expect(new Set(ids).size).toBe(ids.length);
        for (const d of want)
          if (d.assignment.assignmentType === 'auto') expect(ids).toContain(d.profile.identifier);
      }),
      { numRuns: RUNS },
    );
  });

  test('ok/convergence: once every planned install is pending, the next plan sends nothing', () => {
    fc.assert(
      fc.property(desiredArb, recordArb, fc.subarray(NAMES), (want, specs, blockedNames) => {
        const blocked = new Set(blockedNames.map((n) => `prf_${n}`));
        const first = planDevice(input(want, recordsOf(specs), blocked));
        const after = new Map(recordsOf(specs).map((r) => [r.identifier, r]));
        for (const a of first.actions) {
          const prior = after.get(a.identifier);
          if (a.action === 'install')
            after.set(
              a.identifier,
              deviceRecord(libraryProfile(a.identifier.slice(12)), 'pending', {
                version: a.version,
                channel: a.channel,
              }),
            );
          if (a.action === 'remove' && prior)
            after.set(a.identifier, { ...prior, state: 'removing' });
          if (a.action === 'block' && prior === undefined)
            after.set(
              a.identifier,
              deviceRecord(libraryProfile(a.identifier.slice(12)), 'blocked', {
                version: a.version,
              }),
            );
        }
        const second = planDevice(input(want, [...after.values()], blocked));
        expect(
          second.actions.filter((a) => a.action === 'install' || a.action === 'remove'),
        ).toEqual([]);
      }),
      { numRuns: RUNS },
    );
  });
});
