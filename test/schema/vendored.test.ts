import { describe, expect, test } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

const root = join('fixtures', 'apple-device-management');

interface Declaration {
  payload?: { declarationtype?: unknown };
}

function yamlFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return yamlFiles(path);
    return e.name.endsWith('.yaml') ? [path] : [];
  });
}

describe('vendored schema: 26.4 parts and 18.1 parts as SOURCE.txt says', () => {
  test.each<[string, string, number]>([
    ['ok/profiles at 26.4', 'mdm/profiles', 127],
    ['ok/declarations at 26.4', 'declarative/declarations', 52],
    ['ok/commands stay at 18.1', 'mdm/commands', 66],
    ['ok/check-ins stay at 18.1', 'mdm/checkin', 8],
    ['ok/status items stay at 18.1', 'declarative/status', 45],
  ])('%s', (_name, dir, count) => {
    expect(yamlFiles(join(root, dir))).toHaveLength(count);
  });

  test('ok/SOURCE.txt names both commits', () => {
    const source = readFileSync(join(root, 'SOURCE.txt'), 'utf8');
    expect(source).toContain('67045e2fa06f528b196c01edee6a8bf88b844beb');
    expect(source).toContain('b6202ca2fbd31286a52eb160b67a4db7b4fe1f1f');
  });

  const declarationTypes = yamlFiles(join(root, 'declarative', 'declarations')).map(
    (f) =>
      (parse(readFileSync(f, 'utf8'), { maxAliasCount: -1 }) as Declaration).payload
        ?.declarationtype,
  );

  test.each([
    'com.apple.configuration.audio-accessory.settings',
    'com.apple.configuration.intelligence.settings',
    'com.apple.configuration.package',
    'com.apple.configuration.safari.settings',
    'com.apple.configuration.siri.settings',
  ])('ok/declaration type %s, new in 26.x, is vendored', (type) => {
    expect(declarationTypes).toContain(type);
  });
});
