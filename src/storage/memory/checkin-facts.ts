/** Memory adapter: many enrollments at once, and facts merged in from later answers. */
import { checkFacts, checkIds, unique } from '../policies-check.js';
import type { CheckinStore } from '../ports.js';
import { cloneRecord, op, type MemoryState } from './state.js';

/** `findEnrollments` and `mergeFacts` of the memory {@link CheckinStore}. */
export function memoryCheckinFacts(
  state: MemoryState,
): Pick<CheckinStore, 'findEnrollments' | 'mergeFacts'> {
  return {
    findEnrollments(ids) {
      return op(state, () => {
        checkIds(ids, 'enrollment id');
        return unique(ids).flatMap((id) => {
          const record = state.enrollments.get(id);
          return record === undefined ? [] : [cloneRecord(record)];
        });
      });
    },
    mergeFacts(id, facts) {
      return op(state, () => {
        checkFacts(facts);
        const previous = state.enrollments.get(id);
        if (previous === undefined) return false;
        const merged = { ...previous.facts, ...structuredClone(facts) };
        state.enrollments.set(id, { ...previous, facts: merged, updatedAt: state.clock() });
        return true;
      });
    },
  };
}
