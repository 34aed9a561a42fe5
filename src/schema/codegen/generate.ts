/**
 * `npm run generate`: regenerates `src/schema/generated/` from the vendored schema in
 * `fixtures/apple-device-management/`. Output is deterministic; commit it.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderSchema } from './render.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const out = join(root, 'src', 'schema', 'generated');
mkdirSync(out, { recursive: true });
for (const [file, text] of renderSchema(join(root, 'fixtures', 'apple-device-management'))) {
  writeFileSync(join(out, file), text);
  process.stdout.write(`wrote src/schema/generated/${file} (${text.length} bytes)\n`);
}
