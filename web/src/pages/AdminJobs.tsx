import { useEffect, useState } from 'preact/hooks';
import { api, pageQuery } from '../api';
import { fullDate } from '../format';
import type { Job, JobStats, List } from '../types';

const states = ['dead', 'available', 'running', 'completed', 'discarded'] as const;

/** The job queue: depth per kind and state, and the dead letters to retry or discard (admins). */
export default function AdminJobs() {
  const [stats, setStats] = useState<JobStats | null>(null);
  const [state, setState] = useState<string>('dead');
  const [jobs, setJobs] = useState<Job[] | null>(null);
  const [cursor, setCursor] = useState<string | undefined>();
  const [error, setError] = useState('');

  const loadStats = () =>
    api<JobStats>('/api/admin/jobs/stats')
      .then(setStats)
      .catch((e: Error) => setError(e.message));
  const load = async (before?: string) => {
    try {
      const l = await api<List<Job>>(`/api/admin/jobs?state=${state}&${pageQuery(before)}`);
      setJobs((cur) => (before && cur ? [...cur, ...l.items] : l.items));
      setCursor(l.nextCursor);
    } catch (e) {
      setError((e as Error).message);
    }
  };
  useEffect(() => {
    void loadStats();
    const t = setInterval(loadStats, 5000);
    return () => clearInterval(t);
  }, []);
  useEffect(() => void load(), [state]);

  const act = async (j: Job, what: 'retry' | 'discard') => {
    try {
      await api<Job>(`/api/admin/jobs/${j.id}/${what}`, { method: 'POST' });
      setJobs((cur) => cur?.filter((x) => x.id !== j.id) ?? null);
      void loadStats();
    } catch (e) {
      setError((e as Error).message);
    }
  };

  return (
    <section class="page">
      <h1>Jobs</h1>
      {error && <p class="error" role="alert">{error}</p>}
      {stats && (
        <dl class="stats">
          <div><dt>Workers</dt><dd>{stats.busy} / {stats.workers} busy</dd></div>
          <div><dt>Pending</dt><dd>{stats.pending}</dd></div>
          <div><dt>Running</dt><dd>{stats.running}</dd></div>
          <div><dt>Dead</dt><dd>{stats.dead}</dd></div>
          <div><dt>Processed</dt><dd>{stats.processed}</dd></div>
          <div><dt>Failed attempts</dt><dd>{stats.failed}</dd></div>
        </dl>
      )}
      {stats?.depth && stats.depth.length > 0 && (
        <table>
          <caption>Queue depth by kind</caption>
          <thead>
            <tr><th scope="col">Kind</th><th scope="col">State</th><th scope="col">Jobs</th></tr>
          </thead>
          <tbody>
            {stats.depth.map((d) => (
              <tr key={d.kind + d.state}><td>{d.kind}</td><td>{d.state}</td><td>{d.count}</td></tr>
            ))}
          </tbody>
        </table>
      )}
      <div class="field inline">
        <label for="job-state">Show jobs that are</label>
        <select id="job-state" value={state} onChange={(e) => setState(e.currentTarget.value)}>
          {states.map((s) => (
            <option key={s} value={s}>{s}</option>
          ))}
        </select>
      </div>
      {jobs?.length === 0 && <p class="muted">No {state} jobs.</p>}
      <ul class="jobs">
        {jobs?.map((j) => (
          <li key={j.id} class="card">
            <div class="meta">
              <strong>#{j.id} {j.kind}</strong> <span class="tag">{j.state}</span>
              <span class="muted"> attempts {j.attempts}/{j.maxAttempts} · updated {fullDate(j.updatedAt)}</span>
            </div>
            {j.errors && j.errors.length > 0 && <pre class="body">{j.errors[j.errors.length - 1]?.error}</pre>}
            <div class="actions">
              {(j.state === 'dead' || j.state === 'discarded') && (
                <button type="button" class="small" onClick={() => void act(j, 'retry')} aria-label={`Retry job ${j.id}`}>Retry</button>
              )}
              {(j.state === 'dead' || j.state === 'available') && (
                <button type="button" class="small secondary" onClick={() => void act(j, 'discard')} aria-label={`Discard job ${j.id}`}>Discard</button>
              )}
            </div>
          </li>
        ))}
      </ul>
      {cursor && <button type="button" onClick={() => void load(cursor)}>More</button>}
    </section>
  );
}
