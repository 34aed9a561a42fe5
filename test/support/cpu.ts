/**
 * CPU time for tests that bound how much work an operation does. Wall-clock time is never
 * asserted: on a busy machine it measures the neighbours, not the code (HOUSE-STYLE, Tests).
 */

/** Milliseconds of CPU time (user plus system, every thread of this process) since `start`. */
function since(start: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(start);
  return (d.user + d.system) / 1000;
}

/**
 * CPU time `fn` took, in milliseconds, with its result. Garbage collection on helper threads
 * counts too, so bounds should be generous; they catch runaway work, not small regressions.
 */
export function cpuTime<T>(fn: () => T): { ms: number; result: T } {
  const start = process.cpuUsage();
  const result = fn();
  return { ms: since(start), result };
}

/**
 * {@link cpuTime} of an async operation: the CPU time the whole process spent until it settled,
 * so only use it where nothing else runs in the process meanwhile.
 */
export async function cpuTimeAsync<T>(fn: () => Promise<T>): Promise<{ ms: number; result: T }> {
  const start = process.cpuUsage();
  const result = await fn();
  return { ms: since(start), result };
}
