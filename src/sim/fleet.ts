/**
 * A fleet of simulated devices: created with a platform mix, enrolled with bounded concurrency
 * from single-use enrollment URLs, woken by pushes through the simulator's APNs endpoint, and
 * optionally checking in on an interval; the result is a {@link FleetSummary}.
 */
import { describeError } from './session.js';
import {
  createSummaryCollector,
  formatProgress,
  type FleetSummary,
  type SummaryCollector,
} from './summary.js';
import type { SimDevice, SimDeviceOptions, SimPlatform, SimSessionResult } from './types.js';

/** One share of the fleet: a platform, its weight, the OS version, and whether it is User Enrollment. */
export interface OsMixEntry {
  platform: SimPlatform;
  weight: number;
  osVersion?: string;
  /** User Enrollment (BYOD) devices of this platform (`ios-ue` in the mix text). */
  userEnrollment?: boolean;
}

/** 70% iOS, 10% iPadOS, 20% macOS. */
export const DEFAULT_OS_MIX: readonly OsMixEntry[] = [
  { platform: 'iOS', weight: 70 },
  { platform: 'iPadOS', weight: 10 },
  { platform: 'macOS', weight: 20 },
];

/** The OS version of a platform when the mix names none. */
export const DEFAULT_OS_VERSIONS: Readonly<Record<SimPlatform, string>> = {
  iOS: '17.5',
  iPadOS: '17.5',
  macOS: '14.5',
};

/** Options of {@link createFleet}. */
export interface FleetOptions {
  devices: number;
  /** Most enrollments (and interval check-ins) in progress at once; default 16. */
  concurrency?: number;
  /**
   * Most device sessions at once, however started (enrollment, push, interval); the rest wait in
   * order. Default 64: the fleet is one process, and a thousand sessions at once (one push to
   * every device) lag its event loop by seconds, so its HTTP client reuses kept-alive
   * connections the server has already timed out (`ECONNRESET`).
   */
  sessions?: number;
  osMix?: readonly OsMixEntry[];
  /** A fresh single-use enrollment URL per device. */
  enrollmentUrl: () => Promise<string>;
  /** Creates one device (`createSimDevice` in the shipped simulator). */
  createDevice: (options: SimDeviceOptions) => SimDevice;
  /** Passed to every device (key pool, behaviour, fetch, clock). */
  deviceOptions?: Omit<SimDeviceOptions, 'platform' | 'osVersion'>;
  /** Where enrolled devices' push tokens are registered (the simulator's APNs endpoint). */
  apns?: { register(token: string): void; readonly pushes: number };
  /** Check-in interval while `durationMs` runs; default 60 s. */
  intervalMs?: number;
  /** Keep checking in this long after enrollment; default 0 (no interval check-ins). */
  durationMs?: number;
  /**
   * macOS device enrollments also open a user channel (`device.user(name)`), enroll it with its
   * TokenUpdate and check it in (after a push and on the interval too); its sessions count with
   * the devices'. Default false.
   */
  userChannels?: boolean;
  /** Runs after enrollment, before the interval check-ins (e.g. queue commands). */
  afterEnroll?: (fleet: Fleet) => Promise<void>;
  /** Gets a progress line at most every `progressEveryMs` (default 1,000) and one at the end. */
  onProgress?: (line: string) => void;
  progressEveryMs?: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/** A fleet being run. */
export interface Fleet {
  /** Devices enrolled so far. */
  readonly devices: readonly SimDevice[];
  /** A push reached `token`: its device connects (once more if it is connected already). */
  push(token: string): void;
  /** Resolves when no device is connected or about to reconnect. */
  settled(): Promise<void>;
  summary(): FleetSummary;
  /** Counts an error of the run itself (listed with the devices' errors). */
  error(message: string): void;
  /** Enrolls, runs `afterEnroll` and the interval check-ins, settles; resolves the summary. */
  run(): Promise<FleetSummary>;
}

/**
 * Parses `ios:70,ipados:10,macos:20` (an OS version may follow: `ios@16.4:30`; a `-ue` suffix
 * makes User Enrollment devices: `ios-ue:20`). Throws `TypeError`.
 */
export function parseOsMix(text: string): OsMixEntry[] {
  const names: Record<string, SimPlatform> = { ios: 'iOS', ipados: 'iPadOS', macos: 'macOS' };
  const mix = text.split(',').map((part) => {
    const m = /^\s*([a-z]+)(-ue)?(?:@([0-9.]+))?:(\d+)\s*$/i.exec(part);
    const platform = names[m?.[1]?.toLowerCase() ?? ''];
    if (m === null || platform === undefined)
      throw new TypeError(
        `expected PLATFORM:WEIGHT with ios, ipados or macos (-ue: User Enrollment), got '${part}'`,
      );
    return {
      platform,
      weight: Number(m[4]),
      ...(m[3] === undefined ? {} : { osVersion: m[3] }),
      ...(m[2] === undefined ? {} : { userEnrollment: true }),
    };
  });
  if (mix.every((e) => e.weight === 0)) throw new TypeError('the weights add up to 0');
  return mix;
}

/** The mix entry of each of `n` devices, spread evenly (largest remainder, interleaved). */
export function assignPlatforms(n: number, mix: readonly OsMixEntry[]): OsMixEntry[] {
  const total = mix.reduce((a, e) => a + e.weight, 0);
  const out: OsMixEntry[] = [];
  const given = mix.map(() => 0);
  for (let i = 0; i < n; i++) {
    // The entry furthest below its share of the first i+1 devices gets device i.
    let best = 0;
    let gap = -Infinity;
    mix.forEach((e, k) => {
      const g = ((i + 1) * e.weight) / total - (given[k] ?? 0);
      if (g > gap) [best, gap] = [k, g];
    });
    given[best] = (given[best] ?? 0) + 1;
    const entry = mix[best];
    if (entry !== undefined) out.push(entry);
  }
  return out;
}

/** What the fleet pushes and connects: a device channel or a user channel. */
interface Channel {
  readonly pushToken: string;
  connect(): Promise<SimSessionResult>;
}

/** Runs `work` over `items` with at most `limit` in progress. */
async function pool<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>) {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++] as T;
      await work(item);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
}

/** `CODE: message` for an error with a code (OrchardError), else its message. */
function messageOf(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? `${code}: ${error.message}` : describeError(error);
}

/** Creates a fleet; nothing happens before `run()` (or `push`). */
export function createFleet(options: FleetOptions): Fleet {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? ((ms) => new Promise<void>((r) => setTimeout(r, ms)));
  const started = now();
  const collector: SummaryCollector = createSummaryCollector(options.devices);
  const devices: SimDevice[] = [];
  const byToken = new Map<string, Channel>();
  const channels: Channel[] = []; // device and user channels, for the interval check-ins
  const running = new Map<Channel, { again: boolean; done: Promise<void> }>();
  let lastProgress = -Infinity;
  const sessionLimit = options.sessions ?? 64;
  if (!Number.isInteger(sessionLimit) || sessionLimit <= 0)
    throw new TypeError('sessions must be a positive integer');
  let sessionsOpen = 0;
  const waiting: (() => void)[] = [];
  let waitingHead = 0;
  // A session slot: at once when one is free (so a push connects synchronously), else in turn.
  const acquire = (): Promise<void> | undefined => {
    if (sessionsOpen < sessionLimit) {
      sessionsOpen++;
      return undefined;
    }
    return new Promise((resolve) => waiting.push(resolve));
  };
  const release = (): void => {
    if (waitingHead === waiting.length) {
      sessionsOpen--;
      return;
    }
    const next = waiting[waitingHead++] as () => void;
    if (waitingHead > 1024 && waitingHead * 2 > waiting.length) {
      waiting.splice(0, waitingHead);
      waitingHead = 0;
    }
    next(); // the slot passes on
  };

  const summary = (): FleetSummary =>
    collector.snapshot({ pushes: options.apns?.pushes ?? 0, elapsedMs: now() - started });
  const progress = (force = false): void => {
    if (options.onProgress === undefined) return;
    const at = now();
    if (!force && at - lastProgress < (options.progressEveryMs ?? 1000)) return;
    lastProgress = at;
    options.onProgress(formatProgress(summary()));
  };

  const connect = (device: Channel): Promise<void> => {
    const current = running.get(device);
    if (current !== undefined) {
      current.again = true;
      return current.done;
    }
    const state = { again: true, done: Promise.resolve() };
    state.done = (async () => {
      while (state.again) {
        const turn = acquire();
        if (turn !== undefined) await turn;
        // Pushes while waiting for a slot need no session of their own: this one is still to come.
        state.again = false;
        try {
          collector.session(await device.connect());
        } catch (error) {
          collector.error(`connect: ${messageOf(error)}`);
        } finally {
          release();
        }
        progress();
      }
      running.delete(device);
    })();
    running.set(device, state);
    return state.done;
  };

  const enrollOne = async (entry: OsMixEntry): Promise<void> => {
    let device: SimDevice;
    try {
      const url = await options.enrollmentUrl();
      device = options.createDevice({
        ...options.deviceOptions,
        platform: entry.platform,
        osVersion: entry.osVersion ?? DEFAULT_OS_VERSIONS[entry.platform],
        ...(entry.userEnrollment === true ? { userEnrollment: true } : {}),
      });
      await device.enroll({ url });
      devices.push(device);
      listen(device);
      collector.enrolled();
      progress();
      await connect(device); // a device checks in right after enrolling
    } catch (error) {
      collector.failed(`enroll: ${messageOf(error)}`);
      progress();
      return;
    }
    if (options.userChannels === true) await openUserChannel(device, entry);
  };

  const listen = (channel: Channel): void => {
    channels.push(channel);
    byToken.set(channel.pushToken.toLowerCase(), channel);
    options.apns?.register(channel.pushToken);
  };

  // The user channel of a macOS device enrollment: TokenUpdate, then a first check-in.
  const openUserChannel = async (device: SimDevice, entry: OsMixEntry): Promise<void> => {
    if (entry.platform !== 'macOS' || entry.userEnrollment === true || device.user === undefined)
      return;
    try {
      const channel = device.user(`user${devices.length}`);
      await channel.enroll();
      listen(channel);
      await connect(channel);
    } catch (error) {
      collector.error(`user channel: ${messageOf(error)}`);
    }
  };

  const fleet: Fleet = {
    devices,
    push(token) {
      const device = byToken.get(token.toLowerCase());
      if (device !== undefined) void connect(device);
    },
    async settled() {
      while (running.size > 0) await Promise.all([...running.values()].map((s) => s.done));
    },
    summary,
    error: (message) => {
      collector.error(message);
    },
    async run() {
      const concurrency = options.concurrency ?? 16;
      await pool(
        assignPlatforms(options.devices, options.osMix ?? DEFAULT_OS_MIX),
        concurrency,
        enrollOne,
      );
      await fleet.settled();
      await options.afterEnroll?.(fleet);
      const end = now() + (options.durationMs ?? 0);
      const interval = options.intervalMs ?? 60_000;
      while (now() + interval <= end) {
        await sleep(interval);
        await pool([...channels], concurrency, connect);
      }
      await fleet.settled();
      progress(true);
      return summary();
    },
  };
  return fleet;
}

/** Creates a fleet and runs it: see {@link createFleet}. */
export function runFleet(options: FleetOptions): Promise<FleetSummary> {
  return createFleet(options).run();
}
