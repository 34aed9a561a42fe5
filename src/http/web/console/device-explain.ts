/**
 * The explain trace of one profile on one device (B1) in readable form: the decision and why,
 * the device's facts (and which are unknown), its group chain with the settings that decide,
 * the user and the effective policy with where it comes from, the assignment, each compatibility
 * check, each variable (resolved or not, never its value), the removal rules and the record.
 */
import type { ExplainTrace } from '../../../management/delivery/types.js';
import type { WebDeps } from '../types.js';
import { deviceName, identifierParam, visibleDevice } from './device-scope.js';
import {
  asText,
  guarded,
  h,
  render,
  seg,
  viewerOf,
  when,
  type ConsoleApp,
  type Html,
} from './kit.js';

const yesNo = (v: boolean | null): string => (v === null ? 'unknown' : v ? 'yes' : 'no');

const row = (label: string, value: unknown): Html =>
  h`<tr><th scope="row">${label}</th><td>${value === null || value === undefined ? '—' : asText(value)}</td></tr>`;

function deviceSection(t: ExplainTrace): Html {
  const d = t.device;
  return h`<h2>The device</h2><table><tbody>${[
    row('Enrollment type', d.type),
    row('Enrollment', d.enrollment),
    row('Platform', d.platform),
    row('OS version', d.osVersion),
    row('Supervised', yesNo(d.supervised)),
    row('Not reported yet', d.unknown.length === 0 ? 'nothing' : d.unknown.join(', ')),
  ]}</tbody></table>`;
}

function groupsSection(t: ExplainTrace): Html {
  if (t.groups.length === 0) return h`<h2>Groups</h2><p>The device belongs to no group.</p>`;
  const items = t.groups.map((g) => {
    const settings = g.settings.map(
      (s) =>
        h`<li>${s.page}: ${s.currentSetting}, values from <a href="/console/groups/${seg(s.sourceGroupId)}">${s.sourceGroupId}</a>
(${Object.entries(s.values)
          .map(([k, v]) => `${k} = ${JSON.stringify(v)}`)
          .join(', ')})</li>`,
    );
    return h`<li><a href="/console/groups/${seg(g.groupId)}">${g.name}</a>${g.policyId === undefined ? '' : h` (default policy ${g.policyId})`}<ul>${settings}</ul></li>`;
  });
  return h`<h2>Groups, nearest first</h2><ol>${items}</ol>`;
}

function policySection(t: ExplainTrace): Html {
  const user = t.user
    ? h`<a href="/console/users/${seg(t.user.id)}">${t.user.username}</a>`
    : h`nobody owns this device`;
  const source = (p: NonNullable<ExplainTrace['policy']>) =>
    p.source.kind === 'user'
      ? "the user's own policy"
      : p.source.kind === 'group'
        ? `the default policy of group ${p.source.groupId}`
        : 'none';
  const policy = t.policy
    ? h`<a href="/console/policies/${seg(t.policy.id)}">${t.policy.name}</a>, ${source(t.policy)}`
    : h`none`;
  const a = t.assignment;
  return h`<h2>User and policy</h2><table><tbody>
<tr><th scope="row">User</th><td>${user}</td></tr><tr><th scope="row">Effective policy</th><td>${policy}</td></tr>
${row('Assignment type', a?.assignmentType)}${row('Removal control', a?.removal)}
${row('Library profile', t.profile ? `${t.profile.name} (latest version ${t.profile.latestVersion})` : null)}
</tbody></table>`;
}

function checksSection(t: ExplainTrace): Html {
  const checks = t.compatibility.map(
    (c) =>
      h`<tr><th scope="row">${c.check}</th><td>${c.ok ? 'passes' : 'fails'}</td><td>${c.detail}</td></tr>`,
  );
  const vars = t.variables.map(
    (v) =>
      h`<tr><th scope="row">${v.name}</th><td>${v.resolved ? 'resolved' : 'missing'}</td><td>${v.source}</td></tr>`,
  );
  return h`<h2>Compatibility</h2>${checks.length === 0 ? h`<p>Not judged.</p>` : h`<table><thead><tr><th scope="col">Check</th><th scope="col">Result</th><th scope="col">Detail</th></tr></thead><tbody>${checks}</tbody></table>`}
<h2>Variables</h2>${vars.length === 0 ? h`<p>The profile uses no variables.</p>` : h`<table><thead><tr><th scope="col">Variable</th><th scope="col">Value</th><th scope="col">From</th></tr></thead><tbody>${vars}</tbody></table>`}`;
}

function removalSection(t: ExplainTrace): Html {
  const r = t.removal;
  const rec = t.record;
  return h`<h2>Removal</h2>${r === null ? h`<p>No removal rules apply.</p>` : h`<table><tbody>${[row('Control', r.control), row('What is sent', r.effect), row('Who may remove it', r.user)]}</tbody></table>`}
<h2>Record</h2>${rec === null ? h`<p>Nothing was sent or decided for this device yet.</p>` : h`<table><tbody>${[row('State', rec.state), row('Reason', rec.reason), row('Version', rec.version), row('Channel', rec.channel), row('Updated', when(rec.updatedAt))]}</tbody></table>`}`;
}

/** The readable trace. */
export function explainBody(name: string, t: ExplainTrace): Html {
  return h`<h1>${t.identifier} on ${name}</h1>
<p class="decision" data-decision="${t.decision}"><strong>${t.decision}</strong>: ${t.summary}</p>
${deviceSection(t)}${groupsSection(t)}${policySection(t)}${checksSection(t)}${removalSection(t)}
<p><a href="/console/devices/${seg(t.enrollmentId)}">Back to the device</a></p>`;
}

/** Registers `GET /console/devices/{id}/profiles/{identifier}`. */
export function explainRoutes(app: ConsoleApp, deps: WebDeps): void {
  app.get(
    '/console/devices/:id/profiles/:identifier',
    guarded(async (c) => {
      const { device } = await visibleDevice(deps, viewerOf(c).caller, c.req.param('id') ?? '');
      const trace = await deps.delivery.explain(
        device.enrollment.id,
        identifierParam(c.req.param('identifier')),
      );
      return render(
        c,
        `Why: ${trace.identifier}`,
        explainBody(deviceName(device.enrollment), trace),
      );
    }),
  );
}
