import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// Layering (HOUSE-STYLE.md): imports point inward. These rules stop a wrong import where it is
// written; test/layering.test.ts proves the whole folder graph and that it has no cycles.
const DRIVERS = [
  'better-sqlite3',
  'pg',
  'postgres',
  'hono',
  'hono/*',
  '@hono/*',
  'pino',
  'prom-client',
  'nodemailer',
];
const TRANSPORTS = ['node:http', 'node:https', 'node:http2'];
const ABOVE = ['**/daemon/**', '**/cli/**', '**/sim/**', '../index.js', '../../index.js'];
// Each adapter as written from elsewhere (`**/storage/sqlite/**`) and from a sibling (`../sqlite/*`).
const ADAPTERS = {
  memory: ['**/storage/memory/**', '../memory/*'],
  sqlite: ['**/storage/sqlite/**', '../sqlite/*'],
  postgres: ['**/storage/postgres/**', '../postgres/*'],
  apns: ['**/push/apns/**', '../apns/*'],
  smtp: ['**/mail/smtp*', './smtp*'],
  http: ['**/http/**'],
};
const others = (own) => Object.entries(ADAPTERS).flatMap(([k, v]) => (k === own ? [] : v));
const restrict = (files, group, message) => ({
  files,
  rules: { 'no-restricted-imports': ['error', { patterns: [{ group, message }] }] },
});
const layering = [
  restrict(
    ['src/protocol/**/*.ts', 'src/crypto/**/*.ts'],
    [...DRIVERS, ...TRANSPORTS, '../*', '!../errors.js', '!../logger.js'],
    'protocol/ and crypto/ import nothing of ours above them (only ../errors.js, ../logger.js)',
  ),
  restrict(
    [
      'src/{service,identity,profile,admin,management,declarative,schema}/**/*.ts',
      'src/{storage,push,mail}/ports.ts',
    ],
    [...DRIVERS, ...TRANSPORTS, ...Object.values(ADAPTERS).flat(), ...ABOVE],
    'the core imports no transport, driver, framework, adapter, daemon or CLI: ask for a port',
  ),
  ...['memory', 'sqlite', 'postgres'].map((own) =>
    restrict(
      [`src/storage/${own}/**/*.ts`],
      [...others(own), ...ABOVE],
      'adapters never import each other',
    ),
  ),
  restrict(
    ['src/push/apns/**/*.ts'],
    [...others('apns'), ...ABOVE],
    'adapters never import each other',
  ),
  restrict(['src/mail/smtp.ts'], [...others('smtp'), ...ABOVE], 'adapters never import each other'),
  restrict(['src/server/**/*.ts'], ABOVE, 'the server composition is below the daemon and the CLI'),
  restrict(
    ['src/sim/**/*.ts'],
    [
      ...Object.values(ADAPTERS).flat(),
      '**/service/**',
      '**/admin/**',
      '**/server/**',
      '**/daemon/**',
      '**/cli/**',
      '../index.js',
      'better-sqlite3',
      'hono',
      '@hono/*',
    ],
    'the simulator is a device: it uses the wire, crypto, profile and identity layers, not the server',
  ),
  // The daemon and the CLI use the library through its public entries only (package.json
  // "exports"); the CLI reaches the daemon through its one entry.
  {
    files: ['src/daemon/**/*.ts', 'src/cli/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex:
                '^\\.\\./(?!(index|http/node|http/fetch|http/admin/index|http/metrics|storage/sqlite/index|storage/postgres/index|server/index|daemon/index|sim/index|management/index)\\.js$)',
              message:
                'the daemon and the CLI import the library through its public entries (package.json exports)',
            },
          ],
        },
      ],
    },
  },
  restrict(
    ['src/http/**/*.ts'],
    [...others('http'), 'better-sqlite3', 'pg', 'postgres', ...ABOVE],
    'the edge translates: it imports the core and its ports, never a storage or push adapter',
  ),
];

export default tseslint.config(
  {
    ignores: [
      'node_modules/',
      'dist/',
      'coverage/',
      '.tmp/',
      'fixtures/',
      'bin/',
      'eslint.config.js',
      'src/**/generated/',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
    },
  },
  ...layering,
  {
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
    },
  },
);
