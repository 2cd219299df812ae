import { useEffect, useState } from 'preact/hooks';
import { api } from '../api';

// The operations dashboard (admins): the health figures the server samples
// every few seconds (GET /api/admin/ops/series), drawn as small SVG line
// charts with the seed's alert thresholds, and the current alerts from
// GET /api/health. Each chart has a text summary; the table of the last
// samples carries the same figures for screen readers.

interface Sample {
  at: string;
  requestsPerSec: number;
  p50Ms: number;
  p95Ms: number;
  errorRate: number;
  windowRequests: number;
  wsConnections: number;
  dbInUse: number;
  dbWaiting: number;
  dbMaxOpen: number;
  dbExhausted: boolean;
  cacheHitRate: number;
  cacheLookups: number;
  queueDepth: number;
}

interface Series {
  intervalSeconds: number;
  thresholds: { p95Ms: number; errorRate: number; cacheHitRate: number; queueDepth: number };
  samples: Sample[];
}

interface Health {
  status: string;
  alerts: string[];
}

interface Line {
  label: string;
  value: (s: Sample) => number;
  cls: string;
}

interface ChartSpec {
  id: string;
  title: string;
  unit: (v: number) => string;
  lines: Line[];
  /** An alert threshold drawn across the chart, and what it means. */
  threshold?: { value: number; label: string };
  /** The smallest top of the y axis, so a quiet chart is not all noise. */
  floor: number;
}

const pct = (v: number) => `${(100 * v).toFixed(1)} %`;
const ms = (v: number) => `${v.toFixed(1)} ms`;
const num = (v: number) => (Number.isInteger(v) ? String(v) : v.toFixed(1));
const rate = (v: number) => v.toFixed(1);

function charts(t: Series['thresholds'], maxOpen: number): ChartSpec[] {
  return [
    { id: 'rps', title: 'Requests per second', unit: rate, floor: 1, lines: [{ label: 'requests/s', value: (s) => s.requestsPerSec, cls: 'l1' }] },
    {
      id: 'latency', title: 'Response time (last 60 s)', unit: ms, floor: t.p95Ms * 1.1,
      threshold: { value: t.p95Ms, label: `p95 alert above ${t.p95Ms} ms` },
      lines: [{ label: 'p50', value: (s) => s.p50Ms, cls: 'l1' }, { label: 'p95', value: (s) => s.p95Ms, cls: 'l2' }],
    },
    {
      id: 'errors', title: 'Error rate (last 60 s)', unit: pct, floor: t.errorRate * 2,
      threshold: { value: t.errorRate, label: `alert above ${pct(t.errorRate)}` },
      lines: [{ label: 'errors', value: (s) => s.errorRate, cls: 'l1' }],
    },
    { id: 'ws', title: 'WebSocket connections', unit: num, floor: 5, lines: [{ label: 'connections', value: (s) => s.wsConnections, cls: 'l1' }] },
    {
      id: 'db', title: 'Database pool', unit: num, floor: Math.max(maxOpen, 1),
      threshold: { value: maxOpen, label: `exhausted: all ${maxOpen} connections in use and callers waiting` },
      lines: [{ label: 'in use', value: (s) => s.dbInUse, cls: 'l1' }, { label: 'waiting', value: (s) => s.dbWaiting, cls: 'l2' }],
    },
    {
      id: 'cache', title: 'Cache hit rate (last 60 s)', unit: pct, floor: 1,
      threshold: { value: t.cacheHitRate, label: `alert below ${pct(t.cacheHitRate)}` },
      lines: [{ label: 'hit rate', value: (s) => s.cacheHitRate, cls: 'l1' }],
    },
    {
      id: 'queue', title: 'Job queue depth', unit: num, floor: t.queueDepth * 1.2,
      threshold: { value: t.queueDepth, label: `alert above ${t.queueDepth}` },
      lines: [{ label: 'pending', value: (s) => s.queueDepth, cls: 'l1' }],
    },
  ];
}

const W = 320;
const H = 120;
const PAD = 4;

function Chart({ spec, samples, span }: { spec: ChartSpec; samples: Sample[]; span: number }) {
  const end = samples.length ? Date.parse(samples[samples.length - 1]!.at) : Date.now();
  const start = end - span * 1000;
  let top = spec.floor;
  for (const s of samples) for (const l of spec.lines) top = Math.max(top, l.value(s));
  top *= 1.05;
  const x = (at: string) => PAD + ((Date.parse(at) - start) / (span * 1000)) * (W - 2 * PAD);
  const y = (v: number) => H - PAD - (v / top) * (H - 2 * PAD);
  const last = samples[samples.length - 1];
  const summary = last
    ? spec.lines.map((l) => `${l.label} ${spec.unit(l.value(last))}`).join(', ')
    : 'no samples yet';
  const descId = `chart-${spec.id}-desc`;
  return (
    <figure class="chart">
      <figcaption>
        <strong>{spec.title}</strong>
        <span id={descId}>
          {' '}now: {summary}
          {spec.threshold ? `; ${spec.threshold.label}` : ''}
        </span>
      </figcaption>
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-labelledby={descId} data-chart={spec.id} preserveAspectRatio="none">
        <rect class="frame" x="0" y="0" width={W} height={H} />
        {spec.threshold && (
          <line class="threshold" data-threshold={spec.threshold.value} x1={0} x2={W} y1={y(spec.threshold.value)} y2={y(spec.threshold.value)} />
        )}
        {samples.length > 0 &&
          spec.lines.map((l) => (
            <path
              key={l.label}
              class={`series ${l.cls}`}
              d={samples.map((s, i) => `${i ? 'L' : 'M'}${x(s.at).toFixed(1)} ${y(l.value(s)).toFixed(1)}`).join(' ')}
            />
          ))}
      </svg>
      {spec.lines.length > 1 && (
        <p class="legend" aria-hidden="true">
          {spec.lines.map((l) => (
            <span key={l.label} class={`key ${l.cls}`}>{l.label}</span>
          ))}
        </p>
      )}
    </figure>
  );
}

/** Live charts of the server's health figures over the last minutes (admins). */
export default function AdminOps() {
  const [series, setSeries] = useState<Series | null>(null);
  const [health, setHealth] = useState<Health | null>(null);
  const [error, setError] = useState('');
  const minutes = 5;

  useEffect(() => {
    let stopped = false;
    const load = async () => {
      try {
        const s = await api<Series>(`/api/admin/ops/series?minutes=${minutes}`, { retry: false });
        // /api/health answers 503 with the same body when the database is down.
        const h = (await (await fetch('/api/health', { credentials: 'same-origin' })).json()) as Health;
        if (stopped) return;
        setSeries(s);
        setHealth(h);
        setError('');
      } catch (e) {
        if (!stopped) setError((e as Error).message);
      }
    };
    void load();
    const t = setInterval(load, 2000);
    return () => {
      stopped = true;
      clearInterval(t);
    };
  }, []);

  const samples = series?.samples ?? [];
  const maxOpen = samples.length ? samples[samples.length - 1]!.dbMaxOpen : 0;
  const recent = samples.slice(-10).reverse();
  return (
    <section class="page ops">
      <h1>Operations</h1>
      {error && <p class="error" role="alert">{error}</p>}
      <h2>Alerts</h2>
      {health && (
        <div role="status" aria-live="polite">
          {health.alerts.length === 0 ? (
            <p class="ops-ok">Status {health.status}: no alerts.</p>
          ) : (
            <ul class="alerts">
              {health.alerts.map((a) => (
                <li key={a}>{a}</li>
              ))}
            </ul>
          )}
        </div>
      )}
      <h2>Last {minutes} minutes</h2>
      {series && (
        <>
          <p class="muted">
            A sample every {series.intervalSeconds} s; dashed lines are the alert thresholds.
          </p>
          <div class="charts">
            {charts(series.thresholds, maxOpen).map((c) => (
              <Chart key={c.id} spec={c} samples={samples} span={minutes * 60} />
            ))}
          </div>
          <table class="ops-table">
            <caption>Latest samples</caption>
            <thead>
              <tr>
                <th scope="col">Time</th><th scope="col">Requests/s</th><th scope="col">p50</th><th scope="col">p95</th>
                <th scope="col">Errors</th><th scope="col">WebSockets</th><th scope="col">DB in use / waiting</th>
                <th scope="col">Cache hits</th><th scope="col">Queue</th>
              </tr>
            </thead>
            <tbody>
              {recent.map((s) => (
                <tr key={s.at}>
                  <td>{new Date(s.at).toLocaleTimeString()}</td><td>{rate(s.requestsPerSec)}</td><td>{ms(s.p50Ms)}</td>
                  <td>{ms(s.p95Ms)}</td><td>{pct(s.errorRate)}</td><td>{s.wsConnections}</td>
                  <td>{s.dbInUse} / {s.dbWaiting}</td><td>{pct(s.cacheHitRate)}</td><td>{s.queueDepth}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </section>
  );
}
