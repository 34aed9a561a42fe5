/**
 * The delivery service (rules M5-M7, S3, S4, S8, B1): previews and applies policy changes in
 * bulk, delivers to a device at enrollment and when its facts change, installs and removes at
 * request, records what devices answer, reconciles with ProfileList, and explains. Core events
 * are fed to `onEvent`, which never throws: a failed delivery is logged, and devices never see it.
 */
import type { MdmEvent } from '../../service/events.js';
import { factsAnswered, FACTS_PREFIX, profileAnswered, queueFactsQuery } from './acks.js';
import { profileListAnswered, queueProfileList, reconcileDue, reconcileNow } from './reconcile.js';
import { runChange, deliverOne } from './service-changes.js';
import {
  createDeliveryContext,
  type DeliveryContext,
  type DeliveryDeps,
  type DeliveryOptions,
} from './service-context.js';
import { installOne, removeOne } from './service-install.js';
import type { DeliveryService } from './types.js';
import { deviceProfiles, explain } from './view.js';

export type { DeliveryDeps, DeliveryOptions } from './service-context.js';

/** The delivery service plus the entry point of core events. */
export interface DeliveryEngine extends DeliveryService {
  /**
   * Handles one core event (`enrolled`, `re-enrolled`, `command-result`, `checked-out`; others
   * are ignored); events of one enrollment are handled in order. Never rejects.
   */
  onEvent(event: MdmEvent): Promise<void>;
  /** Resolves once every event handed to `onEvent` so far is handled. */
  idle(): Promise<void>;
}

/**
 * Runs `fn` after the work already queued for `key` (whether it succeeded or not), so one
 * device's events never interleave and changes are applied one at a time.
 */
function serializer() {
  const tails = new Map<string, Promise<unknown>>();
  return {
    run<T>(key: string, fn: () => Promise<T>): Promise<T> {
      const next = (tails.get(key) ?? Promise.resolve()).then(fn, fn);
      tails.set(key, next);
      const done = () => {
        if (tails.get(key) === next) tails.delete(key);
      };
      next.then(done, done);
      return next;
    },
    async idle() {
      while (tails.size > 0) await Promise.allSettled([...tails.values()]);
    },
  };
}

/**
 * A (re-)enrolled device is asked its facts and gets what it lacks at once. A device enrolled
 * before may have lost Orchard's profiles with its MDM profile (or kept them): a ProfileList
 * tells, and its answer reinstalls missing Auto profiles and marks the others removed.
 */
async function enrolled(ctx: DeliveryContext, enrollmentId: string, again: boolean): Promise<void> {
  // An enrollment nobody owns has no policy: Orchard queues nothing on its own (M5 applies to
  // devices enrolled through a user's or a generic link).
  if ((await ctx.deps.store.findEnrollmentOwner(enrollmentId)) === undefined) return;
  await queueFactsQuery(ctx, enrollmentId);
  if (again) await queueProfileList(ctx, enrollmentId);
  // The execution pushed when it queued something; otherwise the query still needs a push.
  if (!(await deliverOne(ctx, enrollmentId)).pushed) await ctx.deps.commands.push([enrollmentId]);
}

async function commandResult(
  ctx: DeliveryContext,
  event: Extract<MdmEvent, { type: 'command-result' }>,
): Promise<void> {
  const { enrollmentId, commandUuid } = event;
  if (commandUuid.startsWith(FACTS_PREFIX)) {
    const facts = await factsAnswered(ctx, event);
    if (facts.changed) await deliverOne(ctx, enrollmentId, { supervisedNow: facts.supervisedNow });
    return;
  }
  const record = await ctx.deps.store.findDeviceProfileByCommand(enrollmentId, commandUuid);
  if (record) return profileAnswered(ctx, record, event);
  const reconcile = await ctx.deps.store.findReconcile(enrollmentId);
  if (reconcile?.commandUuid === commandUuid) await profileListAnswered(ctx, reconcile, event);
}

async function handle(ctx: DeliveryContext, event: MdmEvent): Promise<void> {
  switch (event.type) {
    case 'enrolled':
    case 're-enrolled':
      return enrolled(ctx, event.enrollmentId, event.type === 're-enrolled');
    case 'command-result':
      return commandResult(ctx, event);
    default:
      // checked-out: the records stay as they are, as history; a re-enrollment plans again.
      return;
  }
}

/**
 * Creates the delivery service over the admin store, the check-in store's enrollments, the MDM
 * core's queue, the group service and the signing identity. Throws TypeError on a bad option.
 */
export function createDeliveryService(
  deps: DeliveryDeps,
  options: DeliveryOptions = {},
): DeliveryEngine {
  const ctx = createDeliveryContext(deps, options);
  const queue = serializer();
  // Changes are applied one at a time: two at once could plan the same install twice.
  const APPLY = '\u0000apply';
  return {
    preview: (change, opts) => runChange(ctx, change, opts, false),
    apply: (change, opts) => queue.run(APPLY, () => runChange(ctx, change, opts, true)),
    async deliverTo(enrollmentId, reason) {
      const fresh = reason === 'admin' || reason === 'reconcile';
      const { pushed: _pushed, ...plan } = await deliverOne(ctx, enrollmentId, { fresh });
      return plan;
    },
    install: (enrollmentId, profileId, channel) =>
      installOne(ctx, enrollmentId, profileId, channel),
    remove: (enrollmentId, identifier) => removeOne(ctx, enrollmentId, identifier),
    reconcile: (enrollmentId) => reconcileNow(ctx, enrollmentId),
    reconcileDue: (now, limit) => reconcileDue(ctx, now, limit),
    deviceProfiles: (enrollmentId) => deviceProfiles(ctx, enrollmentId),
    explain: (enrollmentId, identifier) => explain(ctx, enrollmentId, identifier),
    onEvent(event) {
      return queue.run(event.enrollmentId, async () => {
        try {
          await handle(ctx, event);
        } catch (err) {
          deps.logger.error(
            { err, event: event.type, enrollmentId: event.enrollmentId },
            'delivery on a device event failed',
          );
        }
      });
    },
    idle: () => queue.idle(),
  };
}
