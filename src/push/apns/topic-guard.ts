/**
 * The topic guard: a push certificate is renewed, never replaced by one with another topic,
 * because every device enrolled with the old topic would have to re-enroll. The refusal says
 * how many enrollments would be orphaned.
 */
import { PushError } from '../../errors.js';

/**
 * Resolves when replacing `current` by `next` is safe or forced; otherwise throws `PushError`
 * `ERR_PUSH_TOPIC_CHANGED` naming the number of orphaned enrollments (when `count` is given).
 */
export async function guardTopicChange(
  current: string,
  next: string,
  force: boolean,
  count?: (topic: string) => number | Promise<number>,
): Promise<void> {
  if (current === next || force) return;
  const orphaned = count === undefined ? undefined : await count(current);
  const who =
    orphaned === undefined
      ? 'every device enrolled with the current topic'
      : `${orphaned} enrolled device${orphaned === 1 ? '' : 's'}`;
  throw new PushError(
    'ERR_PUSH_TOPIC_CHANGED',
    `the new push certificate has topic ${next} instead of ${current}: replacing it would orphan ${who}, ` +
      'which would have to re-enroll. Renew the existing certificate at identity.apple.com, or force the replacement.',
    { detail: { current, next, orphaned } },
  );
}
