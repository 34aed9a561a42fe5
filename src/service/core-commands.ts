/**
 * The command half of the MDM core: queueing (validated, then pushed in the background), the
 * report/next-command loop with NotNow handling, cancellation and pushes.
 */
import { DeviceAuthError, UnrecognizedDeviceError, ValidationError } from '../errors.js';
import { encodeCommand, type CommandPayload, type CommandReport } from '../protocol/command.js';
import type { CoreContext } from './core-context.js';
import { eventBase } from './core-context.js';
import type { MdmEvent } from './events.js';
import type { MdmRequest, MdmResponse } from './ports.js';
import type { QueuedCommand } from '../storage/ports.js';

/** Options of {@link enqueueCommand}. */
export interface EnqueueOptions {
  /** `CommandUUID` to use; default a random UUID. */
  uuid?: string;
  /** After this instant the command is no longer sent; pending targets become `expired`. */
  expiresAt?: Date;
  /** Skip schema validation, for commands our schema copy lacks. */
  raw?: boolean;
  /**
   * Push the targets after queueing (default true). The push runs in the background: queueing
   * does not wait for APNs, and each target's outcome is recorded on the command (`lastPush`).
   */
  push?: boolean;
}

function validate(ctx: CoreContext, command: CommandPayload): void {
  const validator = ctx.deps.validateCommand;
  if (validator === undefined) return;
  const issues = validator(command).filter((issue) => issue.severity === 'error');
  if (issues.length > 0) {
    const where = issues
      .map((i) => (i.path === '' ? i.message : `${i.path}: ${i.message}`))
      .join('; ');
    throw new ValidationError(`${command.RequestType} is invalid: ${where}`, issues);
  }
}

/**
 * Validates, stores once and queues a command for every listed enrollment, then hands the push to
 * the background (resolving before it is sent; past 10,000 ids, before their push info is read).
 * Throws {@link ValidationError} (422) naming the offending keys, TypeError on misuse.
 */
export async function enqueueCommand(
  ctx: CoreContext,
  enrollmentIds: readonly string[],
  command: CommandPayload,
  options: EnqueueOptions = {},
): Promise<string> {
  if (enrollmentIds.length === 0) throw new TypeError('enqueue needs at least one enrollment id');
  const stored = newCommand(ctx, command, options);
  await ctx.storage.enqueue(stored, enrollmentIds);
  if (options.push === false) return stored.uuid;
  // A big list (a large group) is looked up and pushed in the background, a chunk at a time.
  if (enrollmentIds.length > LOOKUP_ON_PATH)
    ctx.pushes.scheduleInBackground(stored.uuid, enrollmentIds);
  else await ctx.pushes.schedule(stored.uuid, enrollmentIds);
  return stored.uuid;
}

/** Most targets whose push info {@link enqueueCommand} reads before it resolves. */
const LOOKUP_ON_PATH = 10_000;

/** Checks and validates `command` and encodes it under its uuid, ready to store. */
function newCommand(ctx: CoreContext, command: CommandPayload, options: EnqueueOptions) {
  if (typeof command !== 'object' || typeof command.RequestType !== 'string') {
    throw new TypeError('command must be a dictionary with a RequestType');
  }
  if (options.raw !== true) validate(ctx, command);
  const uuid = options.uuid ?? ctx.randomUUID();
  return {
    uuid,
    requestType: command.RequestType,
    body: encodeCommand(uuid, command),
    ...(options.expiresAt ? { expiresAt: options.expiresAt } : {}),
  };
}

/**
 * Like {@link enqueueCommand} for every enrollment enrolled now, chosen by the storage in one
 * write (no id list is sent to it); resolves the uuid and the targeted ids, or `undefined` (and
 * stores nothing) when no enrollment is enrolled. It resolves once the command is stored: the
 * push-token lookup of its (perhaps 100,000) targets starts on a later turn of the event loop and
 * runs in the background with the pushes, a chunk at a time.
 */
export async function enqueueToEnrolled(
  ctx: CoreContext,
  command: CommandPayload,
  options: EnqueueOptions = {},
): Promise<{ uuid: string; enrollmentIds: string[] } | undefined> {
  const stored = newCommand(ctx, command, options);
  const ids = await ctx.storage.enqueueEnrolled(stored);
  if (ids.length === 0) return undefined;
  if (options.push !== false) ctx.pushes.scheduleInBackground(stored.uuid, ids);
  return { uuid: stored.uuid, enrollmentIds: ids };
}

/**
 * Pushes to those enrollments with a valid token now; resolves how many had one. A push failure
 * is logged (aggregated), not thrown: commands stay queued.
 */
export async function pushEnrollments(ctx: CoreContext, ids: readonly string[]): Promise<number> {
  if (ctx.deps.push === undefined) return 0;
  const results = await ctx.pushes.pushNow(ids);
  return results.filter((r) => r.outcome !== 'no-token').length;
}

async function checkEnrolled(ctx: CoreContext, id: string): Promise<void> {
  const record = await ctx.storage.findEnrollment(id);
  if (record?.enrolled === true) return;
  if (record !== undefined && record.tokenUpdateCount > 0) {
    // Enrolled once, then checked out or unenrolled by us: tell the device to unenroll.
    throw new UnrecognizedDeviceError('enrollment was unenrolled');
  }
  throw new DeviceAuthError('ERR_ENROLLMENT_UNKNOWN', 'enrollment is not enrolled');
}

/**
 * Handles one report: stores the result of a non-Idle report for the device's own target of
 * the command, then answers the next command. After any non-Idle report commands the device
 * deferred with NotNow are skipped; an Idle poll offers them again.
 */
export async function commandReport(
  ctx: CoreContext,
  req: MdmRequest,
  report: CommandReport,
): Promise<MdmResponse> {
  const e = req.enrollment;
  await checkEnrolled(ctx, e.id);
  await ctx.seen(e.id);
  const now = ctx.clock();
  const skipNotNow = report.Status !== 'Idle';
  let next: QueuedCommand | undefined;
  if (report.Status !== 'Idle' && report.CommandUUID !== undefined) {
    const status = report.Status;
    const event: MdmEvent = {
      ...eventBase(ctx, e),
      type: 'command-result',
      commandUuid: report.CommandUUID,
      status,
    };
    // The result and its outbox event in one transaction: a crash between the two can never
    // keep the result (which the device will not send again) and lose its webhook event. Where
    // the storage can, the next command is taken in that transaction too (one commit per poll).
    const input = { uuid: report.CommandUUID, status, result: req.body };
    const durable = ctx.events.durable(event);
    let stored: boolean;
    if (ctx.storage.reportAndNext !== undefined) {
      ({ stored, next } = await ctx.storage.reportAndNext(e.id, input, {
        ...durable,
        skipNotNow,
        now,
      }));
    } else {
      stored = await ctx.storage.storeResult(e.id, input, durable);
      next = await ctx.storage.nextCommand(e.id, { skipNotNow, now });
    }
    if (stored) {
      ctx.events.notify(event);
    } else {
      ctx.logger.warn(
        { enrollmentId: e.id, commandUuid: report.CommandUUID },
        'report for a command not queued here',
      );
    }
  } else {
    next = await ctx.storage.nextCommand(e.id, { skipNotNow, now });
  }
  if (next === undefined) return { status: 200 };
  return { status: 200, body: next.body, contentType: 'application/xml' };
}
