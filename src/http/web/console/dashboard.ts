/**
 * The console's dashboard (system status) and the audit log. Status: the push certificate's days
 * left and the APNs circuit, the CA certificate's validity, whether storage answers, and counts
 * of devices and users (cached 15 seconds). The system status, the device count and the audit
 * log are for root-scoped administrators (the audit log and the keys are not owned by groups): one
 * scoped below the root sees its users' count, and the audit log answers it 404.
 */
import { isGlobalCaller } from '../../../admin/principals.js';
import type { PushHealth } from '../../../push/ports.js';
import { RequestError } from '../../../errors.js';
import { enrollmentCounter, type GaugeReader } from '../../metrics.js';
import type { WebDeps } from '../types.js';
import {
  guarded,
  h,
  render,
  seg,
  viewerOf,
  when,
  type ConsoleApp,
  type ConsoleContext,
  type Html,
} from './kit.js';
import { dataTable } from './lists.js';

/** What the dashboard reads beyond {@link WebDeps}: the push provider's state, when push is on. */
export interface ConsoleStatusDeps {
  pushHealth?: () => PushHealth | undefined;
}

const DAY = 86_400_000;

function pushCard(deps: WebDeps & ConsoleStatusDeps): Html {
  const health = deps.pushEnabled ? deps.pushHealth?.() : undefined;
  if (!deps.pushEnabled)
    return h`<section class="panel" data-testid="status-push"><h2>Push</h2><p class="status-bad">No push certificate is configured: devices are not woken up.</p></section>`;
  if (health === undefined)
    return h`<section class="panel" data-testid="status-push"><h2>Push</h2><p>Push is configured.</p></section>`;
  const cls = health.expired || health.daysLeft < 30 ? 'status-bad' : 'status-ok';
  return h`<section class="panel" data-testid="status-push"><h2>Push</h2>
<p class="${cls}">Push certificate: ${health.expired ? 'expired' : `${health.daysLeft} days left`} (until ${when(health.notAfter)})</p>
<p>Topic ${health.topic}; APNs connection ${health.circuit === 'closed' ? 'healthy' : health.circuit === 'open' ? 'failing (circuit open)' : 'recovering'};
${health.inFlight} in flight, ${health.queued} queued.</p></section>`;
}

function caCard(deps: WebDeps): Html {
  const cert = deps.ca.certificate;
  const notAfter = new Date(cert.validTo);
  const days = Math.floor((notAfter.getTime() - deps.clock().getTime()) / DAY);
  return h`<section class="panel" data-testid="status-ca"><h2>Certificate authority</h2>
<p class="${days < 90 ? 'status-bad' : 'status-ok'}">${cert.subject.replace(/\n/g, ', ')}: valid until ${when(notAfter)} (${days} days)</p></section>`;
}

async function storageCard(deps: WebDeps): Promise<Html> {
  let ok = true;
  try {
    await deps.storage.findEnrollment('console-probe');
    await deps.admin.findManagementRevision();
  } catch {
    ok = false;
  }
  return h`<section class="panel" data-testid="status-storage"><h2>Storage</h2>
<p class="${ok ? 'status-ok' : 'status-bad'}">${ok ? 'Storage answers.' : 'Storage does not answer.'}</p></section>`;
}

const COUNT_TTL_MS = 15_000;

/** Counts the users of a scope page by page, cached per scope for 15 seconds (as device counts are). */
function userCounter(deps: WebDeps): (scope: string) => Promise<number> {
  const cache = new Map<string, { at: number; n: number }>();
  return async (scope) => {
    const hit = cache.get(scope);
    if (hit !== undefined && Date.now() - hit.at < COUNT_TTL_MS) return hit.n;
    let n = 0;
    let cursor: string | undefined;
    do {
      const page = await deps.users.list({
        limit: 1000,
        scope,
        ...(cursor === undefined ? {} : { cursor }),
      });
      n += page.items.length;
      cursor = page.nextCursor;
    } while (cursor !== undefined && n < 1_000_000);
    if (cache.size > 1000) cache.clear();
    cache.set(scope, { at: Date.now(), n });
    return n;
  };
}

async function dashboard(
  deps: WebDeps & ConsoleStatusDeps,
  counts: { devices: GaugeReader; users: (scope: string) => Promise<number> },
  c: ConsoleContext,
) {
  const { caller } = viewerOf(c);
  const users = await counts.users(caller.principal.groupId);
  const devices = isGlobalCaller(caller) ? await counts.devices() : undefined;
  const countsCard = h`<section class="panel" data-testid="status-counts"><h2>Counts</h2><ul>
${devices === undefined ? '' : h`<li><a href="/console/devices">${devices.enrolled ?? 0} devices enrolled</a>, ${devices.pending ?? 0} pending</li>`}
<li><a href="/console/users">${users} users</a></li></ul></section>`;
  const system = isGlobalCaller(caller)
    ? h`${pushCard(deps)}${caCard(deps)}${await storageCard(deps)}`
    : '';
  return render(
    c,
    'Dashboard',
    h`<h1>Dashboard</h1><div class="cards">${system}${countsCard}</div>`,
  );
}

async function auditPage(deps: WebDeps, c: ConsoleContext) {
  if (!isGlobalCaller(viewerOf(c).caller)) throw new RequestError('ERR_NOT_FOUND', 'no such page');
  const cursor = c.req.query('cursor');
  const page = await deps.admin
    .listAudit({ limit: 50, ...(cursor === undefined ? {} : { cursor }) })
    .catch((error: unknown) => {
      if (error instanceof TypeError) return { items: [] as never[], nextCursor: undefined };
      throw error;
    });
  const rows = page.items.map(
    (
      e,
    ) => h`<tr><td>${when(e.at)}</td><td>${e.actor}</td><th scope="row">${e.action}</th><td>${e.target}</td>
<td><code>${JSON.stringify(e.detail)}</code></td></tr>`,
  );
  const next =
    page.nextCursor === undefined
      ? ''
      : h`<p><a href="/console/audit?cursor=${seg(page.nextCursor)}">Older entries</a></p>`;
  const table = dataTable('No entries.', ['When', 'Who', 'Action', 'Target', 'Detail'], rows);
  return render(c, 'Audit log', h`<h1>Audit log</h1>${table}${next}`);
}

/** Registers `GET /console/` (the dashboard) and `GET /console/audit`. */
export function dashboardRoutes(app: ConsoleApp, deps: WebDeps & ConsoleStatusDeps): void {
  const counts = { devices: enrollmentCounter(deps.storage), users: userCounter(deps) };
  app.get(
    '/console/',
    guarded((c) => dashboard(deps, counts, c)),
  );
  app.get(
    '/console/audit',
    guarded((c) => auditPage(deps, c)),
  );
}
