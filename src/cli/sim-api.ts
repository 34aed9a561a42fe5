/**
 * What `orchard sim` asks of a daemon's admin API: a fresh single-use enrollment link per device,
 * the enrollment ids of the simulated devices, and a command queued to them (which pushes).
 */
import { InputProblem, UsageProblem } from './input.js';

/** The admin API of one daemon, as `orchard sim` uses it. */
export interface SimAdminApi {
  /** Throws `InputProblem` when the daemon cannot be reached, `UsageProblem` when it refuses the key. */
  check(): Promise<void>;
  /** A new single-use enrollment URL. */
  mintEnrollmentUrl(): Promise<string>;
  /** The enrollments of `ids` that the daemon knows (device channels: UDID or EnrollmentID). */
  enrollmentIdsOf(ids: ReadonlySet<string>): Promise<string[]>;
  /** Queues `command` to every enrollment of `ids`, in batches. */
  sendCommand(ids: readonly string[], command: Record<string, unknown>): Promise<void>;
}

const BATCH = 100;

/** A client of the admin API at `base` with the bearer `apiKey`. */
export function simAdminApi(base: string, apiKey: string): SimAdminApi {
  const call = async (method: string, path: string, body?: unknown): Promise<unknown> => {
    let res: Response;
    try {
      res = await fetch(`${base}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${apiKey}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch (error) {
      const cause = (error as { cause?: { message?: string } }).cause?.message;
      throw new InputProblem(`cannot reach ${base}: ${cause ?? (error as Error).message}`);
    }
    const text = await res.text();
    if (res.status === 401 || res.status === 403)
      throw new UsageProblem(`the daemon refused the API key (${res.status}): --api-key`);
    if (res.status >= 300)
      throw new InputProblem(`${method} ${path} answered ${res.status}: ${text.slice(0, 200)}`);
    return JSON.parse(text) as unknown;
  };
  return {
    async check() {
      await call('GET', '/api/v1/enrollments?limit=1');
    },
    async mintEnrollmentUrl() {
      const answer = (await call('POST', '/api/v1/enrollment-tokens', { singleUse: true })) as {
        url: string;
      };
      return answer.url;
    },
    async enrollmentIdsOf(wanted) {
      const ids: string[] = [];
      let cursor: string | null = null;
      do {
        const query: string = cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`;
        const page = (await call('GET', `/api/v1/enrollments?limit=${BATCH}${query}`)) as {
          items: { id: string; udid?: string }[];
          nextCursor: string | null;
        };
        for (const e of page.items) if (wanted.has(e.id)) ids.push(e.id);
        cursor = page.nextCursor;
      } while (cursor !== null);
      return ids;
    },
    async sendCommand(ids, command) {
      for (let i = 0; i < ids.length; i += BATCH)
        await call('POST', '/api/v1/commands', { enrollmentIds: ids.slice(i, i + BATCH), command });
    },
  };
}
