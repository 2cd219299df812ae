import { useState } from 'preact/hooks';
import { api } from '../api';
import { FormError, Submit, submit, useAction } from '../components/Form';
import { Show, useLoad } from '../components/Load';

type Stats = Record<string, unknown> & { backend?: string; entries?: number; tiers?: unknown };

function pct(x: unknown): string {
  return typeof x === 'number' ? (x * 100).toFixed(1) + ' %' : String(x ?? '—');
}

/** The cache (admins): backend, hit rate per tier, entries; flush by prefix. */
export default function AdminCache() {
  const { v, reload } = useLoad(() => api<Stats>('/api/admin/cache'), []);
  const [prefix, setPrefix] = useState('');
  const [flushed, setFlushed] = useState('');
  const flush = useAction(async () => {
    setFlushed('');
    const r = await api<Record<string, unknown>>('/api/admin/cache/flush', { method: 'POST', body: { prefix } });
    setFlushed('Flushed' + (typeof r?.['flushed'] === 'number' ? ` ${r['flushed']} entries` : '') + '.');
    reload();
  });
  return (
    <section class="page narrow">
      <h1>Cache</h1>
      <Show v={v} what="Cache administration">
        {(s) => {
          const tiers: [string, Record<string, unknown>][] = Array.isArray(s.tiers)
            ? (s.tiers as Record<string, unknown>[]).map((t) => [String(t['tier'] ?? t['name'] ?? ''), t])
            : Object.entries((s.tiers ?? {}) as Record<string, Record<string, unknown>>);
          return (
            <>
              <dl class="stats">
                <div>
                  <dt>Backend</dt>
                  <dd>{s.backend ?? '—'}</dd>
                </div>
                <div>
                  <dt>Entries</dt>
                  <dd>{String(s.entries ?? '—')}</dd>
                </div>
                {'hitRate' in s && (
                  <div>
                    <dt>Hit rate</dt>
                    <dd>{pct(s['hitRate'])}</dd>
                  </div>
                )}
              </dl>
              {tiers.length > 0 && (
                <table>
                  <caption>By tier</caption>
                  <thead>
                    <tr>
                      <th scope="col">Tier</th>
                      <th scope="col">Hit rate</th>
                      <th scope="col">Hits</th>
                      <th scope="col">Misses</th>
                    </tr>
                  </thead>
                  <tbody>
                    {tiers.map(([name, t]) => (
                      <tr key={name}>
                        <td>{name}</td>
                        <td>{pct(t['hitRate'])}</td>
                        <td>{String(t['hits'] ?? (typeof t['localHits'] === 'number' ? t['localHits'] + Number(t['remoteHits'] ?? 0) : '—'))}</td>
                        <td>{String(t['misses'] ?? '—')}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              )}
              <form onSubmit={submit(flush.run)} class="card" aria-labelledby="flush-h">
                <h2 id="flush-h">Flush</h2>
                <FormError text={flush.error} />
                <div class="field">
                  <label for="prefix">Keys starting with (empty: everything)</label>
                  <input id="prefix" type="text" value={prefix} onInput={(e) => setPrefix(e.currentTarget.value)} />
                </div>
                <Submit busy={flush.busy}>Flush</Submit>
                {flushed && <span role="status"> {flushed}</span>}
              </form>
            </>
          );
        }}
      </Show>
    </section>
  );
}
