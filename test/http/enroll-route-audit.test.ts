/** The `/enroll/{token}` edge route: a served profile is audited; a failed audit is logged. */
import { describe, expect, test } from '@jest/globals';
import type { EnrollmentService } from '../../src/admin/enrollment-service.js';
import { enrollmentRoute } from '../../src/http/routes.js';
import type { EdgeContext } from '../../src/http/listener.js';
import { silentLogger, StorageError, type Logger } from '../../src/index.js';
import type { AuditLog } from '../../src/storage/ports.js';

const record = { id: 'et_1', singleUse: true, uses: 1, enrollments: 0, createdAt: new Date(0) };
const enrollment = {
  serveProfile: () => Promise.resolve({ profile: Buffer.from('signed'), record }),
} as unknown as EnrollmentService;

function context(logger: Logger): EdgeContext {
  return {
    path: '/enroll/secret',
    method: 'GET',
    logger,
    client: '127.0.0.1',
    query: new URLSearchParams(),
    req: { headers: {} },
  } as unknown as EdgeContext;
}

describe('enrollmentRoute', () => {
  test('ok/a served profile is audited as enrollment-token.use by device', async () => {
    const entries: unknown[] = [];
    const audit = {
      audit: (entry: object) => {
        entries.push(entry);
        return Promise.resolve({ ...entry, seq: 1, at: new Date(0) });
      },
    } as unknown as AuditLog;
    const answer = await enrollmentRoute({ enrollment, audit }).serve?.(context(silentLogger));
    expect(answer?.status).toBe(200);
    expect(entries).toEqual([
      { actor: 'device', action: 'enrollment-token.use', target: 'et_1', detail: {} },
    ]);
  });

  test('ok/a failed audit write is logged and the counted download still gets its profile', async () => {
    const errors: object[] = [];
    const logger = { ...silentLogger, error: (obj: object) => errors.push(obj) };
    const audit = {
      audit: () => Promise.reject(new StorageError('audit store down')),
    } as unknown as AuditLog;
    const answer = await enrollmentRoute({ enrollment, audit }).serve?.(context(logger));
    expect(answer?.status).toBe(200);
    expect(answer?.body).toEqual(Buffer.from('signed'));
    expect(errors).toEqual([expect.objectContaining({ linkId: 'et_1' })]);
  });
});
