/**
 * The constructed device messages in fixtures/messages: both encodings decode to the same
 * value, agree with the `plist` package, re-encode stably, and follow Apple's schema
 * (fixtures/apple-device-management) key by key and type by type.
 */
import { describe, expect, test } from '@jest/globals';
import { readFileSync, readdirSync } from 'node:fs';
import * as plist from 'plist';
import { parse as parseYaml } from 'yaml';
import {
  type PlistDict,
  type PlistValue,
  PlistReal,
  decodePlist,
  encodePlist,
} from '../../src/protocol/plist.js';

interface Fixture {
  name: string;
  kind: 'checkin' | 'report';
  type: string;
  description: string;
}

interface KeySpec {
  key: string;
  type: string;
  rangelist?: unknown[];
  subkeys?: KeySpec[];
}

interface SchemaFile {
  payload: { requesttype?: string };
  payloadkeys?: KeySpec[];
  responsekeys?: KeySpec[];
}

const messages = new URL('../../fixtures/messages/', import.meta.url);
const schemaRoot = new URL('../../fixtures/apple-device-management/mdm/', import.meta.url);
const manifest = JSON.parse(readFileSync(new URL('manifest.json', messages), 'utf8')) as Fixture[];

function loadSchemas(folder: string): Map<string, SchemaFile> {
  const byType = new Map<string, SchemaFile>();
  const dir = new URL(`${folder}/`, schemaRoot);
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.yaml'))) {
    const doc = parseYaml(readFileSync(new URL(file, dir), 'utf8')) as SchemaFile;
    if (doc.payload.requesttype !== undefined) byType.set(doc.payload.requesttype, doc);
  }
  return byType;
}

const checkins = loadSchemas('checkin');
const commands = loadSchemas('commands');

const spec = (key: string, type: string, extra: Partial<KeySpec> = {}): KeySpec => ({
  key,
  type,
  ...extra,
});
/** Identity keys a device adds to any check-in (SCHEMA-GUIDE §4: the YAML is not exhaustive). */
const CHECKIN_COMMON = [
  spec('UDID', '<string>'),
  spec('EnrollmentID', '<string>'),
  spec('EnrollmentUserID', '<string>'),
  spec('UserID', '<string>'),
  spec('UserShortName', '<string>'),
  spec('UserLongName', '<string>'),
  spec('NotOnConsole', '<boolean>'),
];
/** Keys of every command report, which the command files leave out (SCHEMA-GUIDE §3). */
const REPORT_COMMON = [
  ...CHECKIN_COMMON,
  spec('Status', '<string>', {
    rangelist: ['Idle', 'Acknowledged', 'Error', 'CommandFormatError', 'NotNow'],
  }),
  spec('CommandUUID', '<string>'),
  spec('ErrorChain', '<array>', {
    subkeys: [
      spec('ErrorChainItem', '<dictionary>', {
        subkeys: [
          spec('ErrorCode', '<integer>'),
          spec('ErrorDomain', '<string>'),
          spec('LocalizedDescription', '<string>'),
          spec('USEnglishDescription', '<string>'),
        ],
      }),
    ],
  }),
];

function isDict(v: PlistValue): v is PlistDict {
  return typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype;
}

const TYPE_CHECKS: Record<string, (v: PlistValue) => boolean> = {
  '<string>': (v) => typeof v === 'string',
  '<integer>': (v) => (typeof v === 'number' && Number.isInteger(v)) || typeof v === 'bigint',
  '<real>': (v) => v instanceof PlistReal || typeof v === 'number',
  '<boolean>': (v) => typeof v === 'boolean',
  '<data>': (v) => v instanceof Uint8Array,
  '<date>': (v) => v instanceof Date,
  '<array>': (v) => Array.isArray(v),
  '<dictionary>': isDict,
  '<any>': () => true,
};

/** Lists every way `value` departs from `keySpec`; empty when it conforms. */
function check(keySpec: KeySpec, value: PlistValue, path: string): string[] {
  const typeOk = TYPE_CHECKS[keySpec.type];
  if (typeOk === undefined) return [`${path}: unknown schema type ${keySpec.type}`];
  if (!typeOk(value)) return [`${path}: expected ${keySpec.type}`];
  const scalar = value instanceof PlistReal ? value.value : value;
  if (keySpec.rangelist !== undefined && !keySpec.rangelist.includes(scalar)) {
    return [`${path}: ${JSON.stringify(scalar)} not in rangelist`];
  }
  if (keySpec.subkeys === undefined) return [];
  if (Array.isArray(value)) {
    const item = keySpec.subkeys[0];
    return item === undefined ? [] : value.flatMap((v, i) => check(item, v, `${path}[${i}]`));
  }
  return isDict(value) ? checkDict(keySpec.subkeys, value, path) : [];
}

function checkDict(keys: readonly KeySpec[], dict: PlistDict, path: string): string[] {
  if (keys.some((k) => k.key === 'ANY')) return [];
  return Object.entries(dict).flatMap(([key, v]) => {
    const s = keys.find((k) => k.key === key);
    const at = path === '' ? key : `${path}.${key}`;
    return s === undefined ? [`${at}: key not declared in the schema`] : check(s, v, at);
  });
}

function schemaKeys(f: Fixture): KeySpec[] {
  if (f.kind === 'checkin') {
    const file = checkins.get(f.type);
    if (file === undefined) throw new Error(`no check-in schema for ${f.type}`);
    return [...(file.payloadkeys ?? []), ...CHECKIN_COMMON];
  }
  if (f.type === 'Idle') return REPORT_COMMON;
  const file = commands.get(f.type);
  if (file === undefined) throw new Error(`no command schema for ${f.type}`);
  return [...(file.responsekeys ?? []), ...REPORT_COMMON];
}

const read = (name: string): Buffer => readFileSync(new URL(name, messages));
const keep = { preserveReals: true };

describe('fixtures/messages', () => {
  test('ok/manifest lists every file and covers the protocol', () => {
    const files = readdirSync(messages)
      .filter((f) => /\.b?plist$/.test(f))
      .sort();
    const listed = manifest.flatMap((f) => [`${f.name}.bplist`, `${f.name}.plist`]).sort();
    expect(files).toEqual(listed);
    const checkinTypes = new Set(manifest.filter((f) => f.kind === 'checkin').map((f) => f.type));
    expect([...checkins.keys()].filter((t) => !checkinTypes.has(t))).toEqual([]);
    const statuses = new Set(
      manifest.map((f) => (decodePlist(read(`${f.name}.plist`)) as PlistDict).Status),
    );
    expect([...statuses].filter((s) => s !== undefined).sort()).toEqual(
      ['Acknowledged', 'CommandFormatError', 'Error', 'Idle', 'NotNow'].sort(),
    );
  });

  test.each(manifest.map((f) => [f.name, f] as const))('ok/%s', (_name, f) => {
    const xmlBytes = read(`${f.name}.plist`);
    const binBytes = read(`${f.name}.bplist`);
    const fromXml = decodePlist(xmlBytes, keep);
    const fromBin = decodePlist(binBytes, keep);
    expect(fromBin).toEqual(fromXml);
    expect(decodePlist(xmlBytes, { preserveReals: false })).toEqual(
      plist.parse(xmlBytes.toString('utf8')),
    );

    for (const format of ['xml', 'binary'] as const) {
      const once = encodePlist(fromXml, { format });
      expect(encodePlist(decodePlist(once, keep), { format }).equals(once)).toBe(true);
      expect(decodePlist(once, keep)).toEqual(fromXml);
    }

    const message = fromXml as PlistDict;
    if (f.kind === 'checkin') expect(message.MessageType).toBe(f.type);
    else expect(typeof message.Status).toBe('string');
    expect('UDID' in message || 'EnrollmentID' in message).toBe(true);
    expect(checkDict(schemaKeys(f), message, '')).toEqual([]);
  });

  test('fail/the schema check catches undeclared keys, wrong types and values', () => {
    const f = manifest.find((m) => m.name === 'checkin-tokenupdate-ios')!;
    const message = decodePlist(read(`${f.name}.plist`), keep) as PlistDict;
    const bad: PlistDict = { ...message, Token: 'not data', Extra: 1, MessageType: 'Nope' };
    expect(checkDict(schemaKeys(f), bad, '').sort()).toEqual([
      'Extra: key not declared in the schema',
      'MessageType: "Nope" not in rangelist',
      'Token: expected <data>',
    ]);
  });
});
