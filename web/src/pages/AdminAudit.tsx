import { useState } from 'preact/hooks';
import { api } from '../api';
import { FormError, useAction } from '../components/Form';
import { Show, useLoad } from '../components/Load';
import { fullDate } from '../format';
import { navigate } from '../router';
import type { PageProps } from '../routes';
import type { AuditRow, List } from '../types';

function short(v: unknown): string {
  if (v === null || v === undefined) return '';
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  return s.length > 120 ? s.slice(0, 117) + '…' : s;
}

/** The audit log (admins): filter by actor, action and target; verify its hash chain. */
export default function AdminAudit({ query }: PageProps) {
  const actor = query.get('actor') ?? '';
  const action = query.get('action') ?? '';
  const target = query.get('target') ?? '';
  const [f, setF] = useState({ actor, action, target });
  const params = new URLSearchParams({ limit: '50' });
  for (const [k, val] of Object.entries({ actor, action, target })) if (val) params.set(k, val);
  const { v } = useLoad(() => api<List<AuditRow>>('/api/admin/audit?' + params.toString()), [actor, action, target]);
  const [verdict, setVerdict] = useState<{ ok: boolean; rows: number } | null>(null);
  const verify = useAction(async () => setVerdict(await api<{ ok: boolean; rows: number }>('/api/admin/audit/verify')));
  return (
    <section class="page">
      <h1>Audit log</h1>
      <form
        class="filters"
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          navigate('/admin/audit?' + new URLSearchParams(Object.entries(f).filter(([, x]) => x.trim() !== '')).toString());
        }}
      >
        {(['actor', 'action', 'target'] as const).map((k) => (
          <div class="field inline" key={k}>
            <label for={'audit-' + k}>{k[0]?.toUpperCase() + k.slice(1)}</label>
            <input id={'audit-' + k} type="text" value={f[k]} onInput={(e) => setF({ ...f, [k]: e.currentTarget.value })} />
          </div>
        ))}
        <button type="submit" class="small">
          Filter
        </button>
      </form>
      <p>
        <button type="button" class="small secondary" onClick={() => void verify.run()} disabled={verify.busy}>
          Verify the chain
        </button>{' '}
        {verdict && (
          <span role="status" class={verdict.ok ? '' : 'error'} data-testid="audit-verdict">
            {verdict.ok ? `Intact: ${verdict.rows} rows verified.` : `Broken: a row was edited or deleted (${verdict.rows} rows checked).`}
          </span>
        )}
      </p>
      <FormError text={verify.error} />
      <Show v={v} what="The audit log">
        {(l) =>
          l.items.length === 0 ? (
            <p class="muted">No entries.</p>
          ) : (
            <table class="audit">
              <caption class="sr-only">Audit entries, newest first</caption>
              <thead>
                <tr>
                  <th scope="col">When</th>
                  <th scope="col">Actor</th>
                  <th scope="col">Action</th>
                  <th scope="col">Target</th>
                  <th scope="col">Change</th>
                  <th scope="col">Reason</th>
                </tr>
              </thead>
              <tbody>
                {l.items.map((r) => (
                  <tr key={r.id}>
                    <td>{fullDate(r.at)}</td>
                    <td>
                      #{r.actor?.id} <small class="muted">{r.actor?.ip}</small>
                    </td>
                    <td>{r.action}</td>
                    <td>
                      {r.target?.kind} {r.target?.id}
                    </td>
                    <td>
                      <small>
                        {short(r.before)} → {short(r.after)}
                      </small>
                    </td>
                    <td>{r.reason}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )
        }
      </Show>
    </section>
  );
}
