/**
 * `decideBinding`, the rule that decides whether a certificate may speak for an enrollment, as a
 * table: every legal path that moves a bound enrollment to another certificate beside the attacks
 * it must not open. Subjects are not among the facts at all: they cannot decide anything.
 */
import { describe, expect, test } from '@jest/globals';
import {
  decideBinding,
  renewalTarget,
  type BindingDecision,
  type BindingFacts,
} from '../../src/service/cert-auth.js';
import type { CertBinding } from '../../src/storage/ports.js';

const NOW = new Date('2026-12-06T12:00:00Z');
const HOUR = 3_600_000;

const bound: CertBinding = {
  enrollmentId: 'A',
  certHash: 'old',
  boundAt: new Date(NOW.getTime() - 1000 * HOUR),
  serial: '4a',
  notAfter: new Date(NOW.getTime() + 1000 * HOUR),
};

function facts(over: Partial<BindingFacts>): BindingFacts {
  return {
    deviceId: 'A',
    authenticate: false,
    now: NOW,
    certHash: 'new',
    boundElsewhere: undefined,
    binding: bound,
    issuedFor: undefined,
    renews: 'none',
    boundRevoked: false,
    ...over,
  };
}

const cases: [string, Partial<BindingFacts>, BindingDecision][] = [
  ['ok/the bound certificate', { certHash: 'old' }, { action: 'accept' }],
  [
    'ok/the bound certificate at Authenticate',
    { certHash: 'old', authenticate: true },
    { action: 'accept' },
  ],
  [
    'ok/first Authenticate binds',
    { binding: undefined, authenticate: true },
    { action: 'bind', reason: 'enrollment' },
  ],
  ['fail/no binding and not Authenticate', { binding: undefined }, { action: 'unknown' }],
  [
    'ok/identity renewal minted for this enrollment (any route)',
    { issuedFor: renewalTarget('A') },
    { action: 'bind', reason: 'renewal' },
  ],
  [
    'ok/RenewalReq signed by the bound certificate',
    { renews: 'this-enrollment' },
    { action: 'bind', reason: 'renewal' },
  ],
  [
    'ok/re-enrollment after CheckOut',
    { authenticate: true, binding: { ...bound, endedAt: NOW } },
    { action: 'bind', reason: 're-enrollment' },
  ],
  [
    'ok/re-enrollment with the same certificate after CheckOut',
    { authenticate: true, certHash: 'old', binding: { ...bound, endedAt: NOW } },
    { action: 'bind', reason: 're-enrollment' },
  ],
  [
    'ok/re-enrollment after the bound certificate was revoked',
    { authenticate: true, boundRevoked: true },
    { action: 'bind', reason: 're-enrollment' },
  ],
  [
    'ok/re-enrollment after the bound certificate expired',
    { authenticate: true, binding: { ...bound, notAfter: new Date(NOW.getTime() - 1) } },
    { action: 'bind', reason: 're-enrollment' },
  ],
  [
    'ok/re-enrollment in an administrator’s window',
    { authenticate: true, binding: { ...bound, reenrollUntil: new Date(NOW.getTime() + HOUR) } },
    { action: 'bind', reason: 're-enrollment' },
  ],
  [
    'fail/takeover: a certificate bound to another enrollment',
    { authenticate: true, boundElsewhere: 'B', binding: { ...bound, endedAt: NOW } },
    { action: 'refuse', reason: 'bound-elsewhere' },
  ],
  [
    'fail/takeover: an unbound certificate at Authenticate while the binding lives',
    { authenticate: true },
    { action: 'refuse', reason: 'takeover' },
  ],
  [
    'fail/takeover: an unbound certificate on another route',
    {},
    { action: 'refuse', reason: 'takeover' },
  ],
  [
    'fail/takeover: after CheckOut, but not at Authenticate',
    { binding: { ...bound, endedAt: NOW } },
    { action: 'refuse', reason: 'takeover' },
  ],
  [
    'fail/takeover: an administrator’s window that closed',
    { authenticate: true, binding: { ...bound, reenrollUntil: new Date(NOW.getTime() - 1) } },
    { action: 'refuse', reason: 'takeover' },
  ],
  [
    'fail/a renewal minted for another enrollment',
    { issuedFor: renewalTarget('B'), authenticate: true, binding: { ...bound, endedAt: NOW } },
    { action: 'refuse', reason: 'issued-for-another' },
  ],
  [
    'fail/a renewal minted for another enrollment cannot create one',
    { issuedFor: renewalTarget('B'), authenticate: true, binding: undefined },
    { action: 'refuse', reason: 'issued-for-another' },
  ],
  [
    'fail/a RenewalReq of another enrollment’s certificate',
    { renews: 'other', authenticate: true, binding: undefined },
    { action: 'refuse', reason: 'issued-for-another' },
  ],
  [
    'fail/a certificate issued for a link is no renewal',
    { issuedFor: 'enrollment-token:7' },
    { action: 'refuse', reason: 'takeover' },
  ],
];

describe('decideBinding', () => {
  test.each(cases)('%s', (_name, over, expected) => {
    expect(decideBinding(facts(over))).toEqual(expected);
  });
});
