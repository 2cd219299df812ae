import { useState } from 'preact/hooks';
import { api } from '../api';
import { FormError, useAction } from '../components/Form';
import { Show, useLoad } from '../components/Load';
import { fullDate } from '../format';
import type { List, ReportGroup } from '../types';

const actions = [
  { id: 'dismiss', label: 'Dismiss' },
  { id: 'remove', label: 'Remove the content' },
  { id: 'ban_author', label: 'Ban the author' },
] as const;

/** The reports queue (moderators): open reports grouped by target, resolved in one step. */
export default function AdminReports() {
  const { v, reload } = useLoad(() => api<List<ReportGroup>>('/api/admin/reports?status=open&limit=50'), []);
  return (
    <section class="page narrow">
      <h1>Reports</h1>
      <Show v={v} what="The reports queue">
        {(l) =>
          l.items.length === 0 ? (
            <p class="muted">No open reports.</p>
          ) : (
            <ul class="reports">
              {l.items.map((r) => (
                <Report key={r.reportId} r={r} onDone={reload} />
              ))}
            </ul>
          )
        }
      </Show>
    </section>
  );
}

function Report({ r, onDone }: { r: ReportGroup; onDone: () => void }) {
  const [note, setNote] = useState('');
  const resolve = useAction(async (action: string) => {
    await api('/api/admin/reports/' + r.reportId + '/resolve', { method: 'POST', body: { action, note } });
    onDone();
  });
  return (
    <li class="card">
      <div class="meta">
        <strong>
          {r.target.kind} #{r.target.id}
        </strong>
        {r.target.authorId > 0 && (
          <a href={'/users/' + r.target.authorId} class="muted">
            by member #{r.target.authorId}
          </a>
        )}
        <span class="tag">{r.count} reports</span>
        {r.firstReportedAt && <span class="muted">{fullDate(r.firstReportedAt)}</span>}
      </div>
      {r.reasons?.length > 0 && (
        <ul class="reasons">
          {r.reasons.map((x) => (
            <li key={x.reportId}>{x.reason}</li>
          ))}
        </ul>
      )}
      <FormError text={resolve.error} />
      <div class="row wrap">
        <input type="text" value={note} onInput={(e) => setNote(e.currentTarget.value)} aria-label={`Note on report ${r.reportId}`} placeholder="note (optional)" />
        {actions.map((a) => (
          <button key={a.id} type="button" class={a.id === 'dismiss' ? 'small secondary' : 'small'} disabled={resolve.busy} onClick={() => void resolve.run(a.id)}>
            {a.label}
          </button>
        ))}
      </div>
    </li>
  );
}
