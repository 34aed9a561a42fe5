/**
 * Several push certificates at once: routes each target to the provider of its topic, one
 * provider per certificate, and keeps the results in the caller's order.
 */
import type { PushProvider, PushResult, PushTarget } from './ports.js';

/** A provider that knows its topic (e.g. an `ApnsPushProvider`). */
export interface TopicPushProvider extends PushProvider {
  readonly topic: string;
}

/**
 * Creates a provider routing by `target.topic` at push time (so a hot-reloaded topic is
 * followed). Targets whose topic no provider serves get `rejected` with reason `UnknownTopic`.
 */
export function createMultiTopicPushProvider(
  providers: readonly TopicPushProvider[],
): PushProvider {
  return {
    async push(targets) {
      const byProvider = new Map<TopicPushProvider, number[]>();
      const results = new Array<PushResult>(targets.length);
      targets.forEach((target, i) => {
        const provider = providers.find((p) => p.topic === target.topic);
        if (provider === undefined) {
          results[i] = {
            enrollmentId: target.enrollmentId,
            outcome: 'rejected',
            reason: 'UnknownTopic',
          };
          return;
        }
        const list = byProvider.get(provider) ?? [];
        list.push(i);
        byProvider.set(provider, list);
      });
      await Promise.all(
        [...byProvider].map(async ([provider, indexes]) => {
          const out = await provider.push(indexes.map((i) => targets[i] as PushTarget));
          out.forEach((r, k) => (results[indexes[k] as number] = r));
        }),
      );
      return results;
    },
  };
}
