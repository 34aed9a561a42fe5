/**
 * Prometheus metrics of the daemon in the text exposition format (version 0.0.4): request
 * counts by route and status, latency histograms, pushes by outcome and by outcome and reason,
 * and gauges read at scrape time (push queue depth, circuit state, enrollments by state). Routes
 * are templates (`/enroll/{token}`), so no secret from a path ever becomes a label.
 */

/** Latency buckets in seconds. */
export const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Distinct outcome/reason label sets of `orchard_push_results_total`; the rest count as `Other`. */
const MAX_PUSH_LABEL_SETS = 200;

/** A gauge read at scrape time: label set → value. */
export type GaugeReader = () => Promise<Record<string, number>> | Record<string, number>;

/** The daemon's metrics. */
export interface DaemonMetrics {
  /** Records one finished HTTP request. */
  request(route: string, method: string, status: number, seconds: number): void;
  /** Counts push results by outcome. */
  pushed(outcome: string, count?: number): void;
  /**
   * Counts one enrollment's push outcome (`accepted`, `failed`, `deferred`, `no-token`) with its
   * reason (APNs's, a transport error code, or ours), absent for an accepted push.
   */
  pushResult(outcome: string, reason?: string): void;
  /** Counts an enrollment-profile download, a device enrollment, or a check-out. */
  enrollment(event: 'profile' | 'enrolled' | 're-enrolled' | 'checked-out'): void;
  /** Registers a gauge computed at scrape time, labelled by `label`. */
  gauge(name: string, help: string, label: string, read: GaugeReader): void;
  /** The exposition text. */
  render(): Promise<string>;
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function labels(pairs: Record<string, string>): string {
  const parts = Object.entries(pairs).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
  return parts.length === 0 ? '' : `{${parts.join(',')}}`;
}

interface Histogram {
  labels: Record<string, string>;
  buckets: number[];
  sum: number;
  count: number;
}

/** Creates an empty registry. */
export function createMetrics(): DaemonMetrics {
  const requests = new Map<string, { labels: Record<string, string>; n: number }>();
  const latency = new Map<string, Histogram>();
  const pushes = new Map<string, number>();
  const pushResults = new Map<string, { labels: Record<string, string>; n: number }>();
  const enrollments = new Map<string, number>();
  const gauges: { name: string; help: string; label: string; read: GaugeReader }[] = [];

  function counterLines(name: string, help: string, rows: [string, number][]): string[] {
    return [
      `# HELP ${name} ${help}`,
      `# TYPE ${name} counter`,
      ...rows.map(([l, n]) => `${name}${l} ${n}`),
    ];
  }

  function histogramLines(): string[] {
    const name = 'orchard_http_request_duration_seconds';
    const out = [`# HELP ${name} HTTP request latency by route.`, `# TYPE ${name} histogram`];
    for (const h of latency.values()) {
      LATENCY_BUCKETS.forEach((le, i) => {
        out.push(`${name}_bucket${labels({ ...h.labels, le: String(le) })} ${h.buckets[i] ?? 0}`);
      });
      out.push(`${name}_bucket${labels({ ...h.labels, le: '+Inf' })} ${h.count}`);
      out.push(
        `${name}_sum${labels(h.labels)} ${h.sum}`,
        `${name}_count${labels(h.labels)} ${h.count}`,
      );
    }
    return out;
  }

  return {
    request(route, method, status, seconds) {
      const l = { route, method, status: String(status) };
      const key = JSON.stringify(l);
      const r = requests.get(key) ?? { labels: l, n: 0 };
      r.n++;
      requests.set(key, r);
      const h = latency.get(route) ?? {
        labels: { route },
        buckets: LATENCY_BUCKETS.map(() => 0),
        sum: 0,
        count: 0,
      };
      LATENCY_BUCKETS.forEach((le, i) => {
        if (seconds <= le) h.buckets[i] = (h.buckets[i] ?? 0) + 1;
      });
      h.sum += seconds;
      h.count++;
      latency.set(route, h);
    },
    pushed(outcome, count = 1) {
      pushes.set(outcome, (pushes.get(outcome) ?? 0) + count);
    },
    pushResult(outcome, reason) {
      let l: Record<string, string> = reason === undefined ? { outcome } : { outcome, reason };
      let key = JSON.stringify(l);
      // Reasons come from APNs and the network: cap the label sets so no answer can blow them up.
      if (!pushResults.has(key) && pushResults.size >= MAX_PUSH_LABEL_SETS) {
        l = { outcome, reason: 'Other' };
        key = JSON.stringify(l);
      }
      const r = pushResults.get(key) ?? { labels: l, n: 0 };
      r.n++;
      pushResults.set(key, r);
    },
    enrollment(event) {
      enrollments.set(event, (enrollments.get(event) ?? 0) + 1);
    },
    gauge(name, help, label, read) {
      gauges.push({ name, help, label, read });
    },
    async render() {
      const lines = [
        ...counterLines(
          'orchard_http_requests_total',
          'HTTP requests by route, method and status.',
          [...requests.values()].map((r) => [labels(r.labels), r.n]),
        ),
        ...histogramLines(),
        ...counterLines(
          'orchard_pushes_total',
          'APNs pushes by outcome.',
          [...pushes].map(([o, n]) => [labels({ outcome: o }), n]),
        ),
        ...counterLines(
          'orchard_push_results_total',
          'Push outcomes per enrollment (accepted, failed, deferred, no-token) by reason.',
          [...pushResults.values()].map((r) => [labels(r.labels), r.n]),
        ),
        ...counterLines(
          'orchard_enrollment_events_total',
          'Enrollment profile downloads and enrollment state changes.',
          [...enrollments].map(([e, n]) => [labels({ event: e }), n]),
        ),
      ];
      for (const g of gauges) {
        lines.push(`# HELP ${g.name} ${g.help}`, `# TYPE ${g.name} gauge`);
        for (const [value, n] of Object.entries(await g.read()))
          lines.push(`${g.name}${value === '' ? '' : labels({ [g.label]: value })} ${n}`);
      }
      return `${lines.join('\n')}\n`;
    },
  };
}
