/**
 * CBOR decode of a realistic device-attest-01 attestation object (`apple` format: a P-256 leaf
 * with Apple's extensions, a P-256 intermediate, 37 bytes of authData; about 1.2 KB), Orchard's
 * minimal decoder against `cbor-x` and `cborg` when they can be loaded, and the whole verifier
 * (CBOR, chain, extensions) to show CBOR's share of a challenge's cost.
 *
 * `cbor-x` and `cborg` are not dependencies: point `CBOR_BENCH_MODULES` at a node_modules folder
 * holding them (e.g. a scratch `npm i cbor-x@1.6.9 cborg@6.1.5`); without it they are skipped.
 */
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createAppleAttestationVerifier } from '../src/acme/attestation.js';
import { decodeCbor } from '../src/acme/attestation-cbor.js';
import { attestationCa } from '../test/support/attestation-ca.js';
import { measure, report, type Rate } from './lib.js';

type Decode = (bytes: Uint8Array) => unknown;

async function loadFrom(dir: string, name: string, pick: (m: never) => Decode): Promise<Decode> {
  const pkg = JSON.parse(readFileSync(join(dir, name, 'package.json'), 'utf8')) as {
    exports: Record<string, unknown>;
  };
  const dot = pkg.exports['.'] as { import?: string; node?: { import: string } };
  const entry = dot.node?.import ?? dot.import ?? '';
  return pick((await import(pathToFileURL(join(dir, name, entry)).href)) as never);
}

async function others(): Promise<{ name: string; decode: Decode }[]> {
  const dir = process.env.CBOR_BENCH_MODULES;
  if (dir === undefined || dir === '') {
    console.log('\n(cbor-x and cborg skipped: set CBOR_BENCH_MODULES to a node_modules folder)');
    return [];
  }
  const out: { name: string; decode: Decode }[] = [];
  try {
    out.push({
      name: 'cbor-x decode',
      decode: await loadFrom(dir, 'cbor-x', (m: { decode: Decode }) => m.decode),
    });
  } catch (error) {
    console.log(`(cbor-x not loaded: ${String(error)})`);
  }
  try {
    out.push({
      name: 'cborg decode',
      decode: await loadFrom(dir, 'cborg', (m: { decode: Decode }) => m.decode),
    });
  } catch (error) {
    console.log(`(cborg not loaded: ${String(error)})`);
  }
  return out;
}

/** Runs the CBOR measurements. */
export default async function run(): Promise<void> {
  const ca = await attestationCa();
  const key = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  const token = 'AAAAAAAAAAAAAAAAAAAAAA';
  const udid = '00008030-001A2D3C0E12802E';
  const attObj = await ca.attest({ key, token, serial: 'C02XK1ABJG5J', udid });
  const baseline = await measure('decodeCbor (Orchard)', () => decodeCbor(attObj));
  const rows: { rate: Rate }[] = [];
  for (const { name, decode } of await others()) {
    // Each must read the same structure before it is timed.
    const decoded = decode(attObj) as Map<string, unknown> | Record<string, unknown>;
    const fmt = decoded instanceof Map ? decoded.get('fmt') : decoded.fmt;
    if (fmt !== 'apple') throw new Error(`${name} misread the attestation object`);
    rows.push({ rate: await measure(name, () => decode(attObj)) });
  }
  const verify = createAppleAttestationVerifier();
  const input = {
    attObj,
    token,
    identifier: udid,
    trustAnchors: [ca.root.certificate],
    now: new Date(),
  };
  rows.push({
    rate: await measure('whole apple verifier (CBOR, chain, extensions)', () => verify(input)),
  });
  report(`device-attest-01 attestation object (${String(attObj.length)} bytes)`, baseline, rows);
}
