/**
 * `GET /api/v1/openapi.json` is the document @hono/zod-openapi generates from the route table:
 * valid OpenAPI 3.1 by a real validator, with security schemes, and every operation with its
 * response schemas and, where the route takes a body, its request schema.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { Validator } from '@seriousme/openapi-schema-validator';
import { ROUTES } from '../../../src/http/admin/index.js';
import { adminApiFixture, type AdminApiFixture } from './support.js';

interface Operation {
  security: unknown[];
  'x-orchard-scope': string;
  requestBody?: { content: Record<string, { schema?: unknown }> };
  responses: Record<string, { content?: Record<string, { schema?: unknown }> }>;
}

let fixture: AdminApiFixture;
let doc: {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: { securitySchemes: Record<string, unknown>; schemas: Record<string, unknown> };
};

beforeAll(async () => {
  fixture = await adminApiFixture();
  const res = await fixture.app.request('/api/v1/openapi.json');
  expect(res.status).toBe(200);
  doc = (await res.json()) as typeof doc;
});

afterAll(() => {
  fixture.close();
});

describe('the OpenAPI document', () => {
  test('ok/is valid OpenAPI 3.1', async () => {
    expect(doc.openapi).toBe('3.1.0');
    const result = await new Validator().validate(doc);
    expect(result.errors).toBeUndefined();
    expect(result.valid).toBe(true);
  });

  test('ok/declares the bearer security scheme and the shared schemas', () => {
    expect(doc.components.securitySchemes.apiKey).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(Object.keys(doc.components.schemas)).toEqual(
      expect.arrayContaining(['Error', 'PlistValue', 'Command', 'EnrollmentSummary']),
    );
  });

  test('ok/documents exactly the routes the app serves', () => {
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`),
    );
    expect(documented.sort()).toEqual(ROUTES.map((r) => `${r.method} ${r.path}`).sort());
  });

  test.each(ROUTES.map((r) => [`${r.method} ${r.path}`, r] as const))(
    'ok/%s has its security, response schemas and request schema',
    (_name, route) => {
      const op = doc.paths[route.path]?.[route.method.toLowerCase()];
      expect(op).toBeDefined();
      expect(op!['x-orchard-scope']).toBe(route.auth);
      expect(op!.security).toEqual(route.auth === 'public' ? [] : [{ apiKey: [] }]);
      const codes = Object.keys(op!.responses);
      expect(codes.some((c) => /^2\d\d$/.test(c))).toBe(true);
      expect(codes).toContain('default');
      for (const response of Object.values(op!.responses)) {
        // A raw answer (a QR image) documents its own media type; every other answer is JSON.
        const types = Object.keys(response.content ?? {});
        const type = types.find((t) => t.startsWith('image/')) ?? 'application/json';
        expect(response.content?.[type]?.schema).toBeDefined();
      }
      if (route.route.request?.body === undefined) expect(op!.requestBody).toBeUndefined();
      else expect(op!.requestBody?.content['application/json']?.schema).toBeDefined();
    },
  );

  test('ok/command routes also take a plist body', () => {
    for (const path of ['/api/v1/commands', '/api/v1/enrollments/{id}/commands'])
      expect(Object.keys(doc.paths[path]!.post!.requestBody!.content)).toEqual([
        'application/json',
        'application/x-apple-plist',
      ]);
  });
});
