import { describe, expect, test } from '@jest/globals';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { renderSchema } from '../../src/schema/codegen/render.js';
import { profileFacts } from '../../src/schema/generated/profile-facts.js';
import { commandFacts } from '../../src/schema/generated/command-facts.js';
import { checkinFacts } from '../../src/schema/generated/checkin-facts.js';

const generated = join('src', 'schema', 'generated');

describe('schema generator', () => {
  const rendered = renderSchema(join('fixtures', 'apple-device-management'));

  test('ok/committed files equal a fresh run of the generator (run `npm run generate` if this fails)', () => {
    expect([...rendered.keys()].sort()).toEqual(readdirSync(generated).sort());
    for (const [file, text] of rendered) {
      expect({ file, text: readFileSync(join(generated, file), 'utf8') }).toEqual({ file, text });
    }
  });

  test('ok/the generator is deterministic', () => {
    const again = renderSchema(join('fixtures', 'apple-device-management'));
    expect(again).toEqual(rendered);
  });

  test('ok/counts match the vendored schema (119 payload types + 2 meta at 26.4, 66 commands, 8 check-ins at 18.1)', () => {
    expect(Object.keys(profileFacts.entries)).toHaveLength(121);
    expect(Object.keys(commandFacts.entries)).toHaveLength(66);
    expect(Object.keys(checkinFacts.entries)).toHaveLength(8);
  });

  test('ok/files sharing a payload type are merged into the union of their keys', () => {
    const mcx = profileFacts.entries['com.apple.MCX'];
    expect(mcx?.files).toHaveLength(6);
    const keys = mcx?.keys.map((id) => profileFacts.nodes[id]?.key);
    expect(keys).toEqual(
      expect.arrayContaining(['EnableGuestAccount', 'timeServer', 'RequireAdminForIBSS']),
    );
    const sso = profileFacts.entries['com.apple.extensiblesso'];
    expect(sso?.files[0]).toBe('com.apple.extensiblesso.yaml');
  });

  test('ok/recursive anchors become references to earlier nodes', () => {
    const cyclic = profileFacts.nodes.some((n, id) => n.subkeys?.some((s) => s <= id));
    expect(cyclic).toBe(true);
  });

  test('ok/no descriptions are copied', () => {
    for (const text of rendered.values()) {
      expect(text).not.toMatch(/"(title|content|description)":/);
    }
  });
});
