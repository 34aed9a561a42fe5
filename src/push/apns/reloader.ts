/**
 * Hot reload from disk: polls the push certificate files and, when one changes, loads them
 * and hands the result to the provider (which keeps the topic guard). Polling the modification
 * time survives editors and tools that replace files by renaming, which `fs.watch` misses.
 */
import { stat } from 'node:fs/promises';
import type { PushCertificateSource } from './certificate.js';
import type { ApnsPushProvider } from './provider.js';

/** Options of {@link watchPushCertificate}. */
export interface PushCertificateWatchOptions {
  /** Files whose change triggers a reload (certificate and key, or the .p12). */
  files: readonly string[];
  /** Reads the files into a source for `loadPushCertificate`. */
  load: () => Promise<PushCertificateSource>;
  /** Poll interval in ms (default 60,000). */
  intervalMs?: number;
  /** Called after a successful reload. */
  onReload?: () => void;
  /** Called when a changed file cannot be loaded or is refused (e.g. `ERR_PUSH_TOPIC_CHANGED`). */
  onError?: (error: unknown) => void;
}

/** A running watch; `check()` polls once now and resolves to whether it reloaded. */
export interface PushCertificateWatch {
  check: () => Promise<boolean>;
  stop: () => void;
}

async function fingerprint(files: readonly string[]): Promise<string> {
  const stats = await Promise.all(
    files.map((f) =>
      stat(f).then(
        (s) => `${s.mtimeMs}:${s.size}`,
        () => 'missing',
      ),
    ),
  );
  return stats.join('|');
}

/**
 * Starts polling `files`; a change reloads `provider` without forcing a topic change.
 * Resolves once the current state is recorded. Throws `TypeError` when `files` is empty.
 */
export async function watchPushCertificate(
  provider: ApnsPushProvider,
  options: PushCertificateWatchOptions,
): Promise<PushCertificateWatch> {
  if (options.files.length === 0) throw new TypeError('files must not be empty');
  let seen = await fingerprint(options.files);
  let busy = false;
  const check = async (): Promise<boolean> => {
    if (busy) return false;
    busy = true;
    try {
      const now = await fingerprint(options.files);
      if (now === seen) return false;
      seen = now;
      await provider.reloadCertificate(await options.load());
      options.onReload?.();
      return true;
    } catch (error) {
      options.onError?.(error);
      return false;
    } finally {
      busy = false;
    }
  };
  const timer = setInterval(() => void check(), options.intervalMs ?? 60_000);
  timer.unref();
  return {
    check,
    stop: () => {
      clearInterval(timer);
    },
  };
}
