import { useState } from 'preact/hooks';
import { api } from '../api';
import { FormError, useAction } from '../components/Form';
import { Show, useLoad } from '../components/Load';
import { fullDate } from '../format';
import { navigate } from '../router';
import type { PageProps } from '../routes';
import type { AdminUser, List, Role } from '../types';

const roles: Role[] = ['user', 'creator', 'moderator', 'admin'];

/** Users (admins): search, change a role, ban and unban. */
export default function AdminUsers({ query }: PageProps) {
  const q = query.get('q') ?? '';
  const role = query.get('role') ?? '';
  const status = query.get('status') ?? '';
  const [text, setText] = useState(q);
  const params = new URLSearchParams({ limit: '50' });
  if (q) params.set('q', q);
  if (role) params.set('role', role);
  if (status) params.set('status', status);
  const { v, reload } = useLoad(() => api<List<AdminUser>>('/api/admin/users?' + params.toString()), [q, role, status]);
  const go = (nq: string, nr: string, ns: string) =>
    navigate('/admin/users?' + new URLSearchParams({ ...(nq ? { q: nq } : {}), ...(nr ? { role: nr } : {}), ...(ns ? { status: ns } : {}) }).toString());
  return (
    <section class="page">
      <h1>Users</h1>
      <form
        class="filters"
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          go(text.trim(), role, status);
        }}
      >
        <div class="field inline">
          <label for="user-q">Search</label>
          <input id="user-q" type="search" value={text} placeholder="username or email" onInput={(e) => setText(e.currentTarget.value)} />
        </div>
        <div class="field inline">
          <label for="user-role">Role</label>
          <select id="user-role" value={role} onChange={(e) => go(text.trim(), e.currentTarget.value, status)}>
            <option value="">Any</option>
            {roles.map((r) => (
              <option key={r} value={r}>
                {r}
              </option>
            ))}
          </select>
        </div>
        <div class="field inline">
          <label for="user-status">Status</label>
          <select id="user-status" value={status} onChange={(e) => go(text.trim(), role, e.currentTarget.value)}>
            <option value="">Any</option>
            <option value="active">active</option>
            <option value="banned">banned</option>
          </select>
        </div>
        <button type="submit" class="small">
          Search
        </button>
      </form>
      <Show v={v} what="User administration">
        {(l) =>
          l.items.length === 0 ? (
            <p class="muted">No users match.</p>
          ) : (
            <ul class="admin-users">
              {l.items.map((u) => (
                <UserRow key={u.id} u={u} onChange={reload} />
              ))}
            </ul>
          )
        }
      </Show>
    </section>
  );
}

function UserRow({ u, onChange }: { u: AdminUser; onChange: () => void }) {
  const [role, setRole] = useState<Role>(u.role);
  const [reason, setReason] = useState('');
  const [until, setUntil] = useState('');
  const banned = u.banned ?? u.status === 'banned';
  const act = useAction(async (what: 'role' | 'ban' | 'unban') => {
    if (what === 'role') await api('/api/admin/users/' + u.id, { method: 'PATCH', body: { role } });
    if (what === 'ban') {
      if (!reason.trim()) throw new Error('Say why: the member sees the reason.');
      await api('/api/admin/users/' + u.id + '/ban', { method: 'POST', body: until ? { reason, until: new Date(until).toISOString() } : { reason } });
    }
    if (what === 'unban') await api('/api/admin/users/' + u.id + '/unban', { method: 'POST' });
    onChange();
  });
  return (
    <li class="card">
      <div class="meta">
        <a href={'/users/' + u.id}>
          <strong>@{u.username}</strong>
        </a>
        <span class="muted">
          {u.email} · #{u.id} · since {fullDate(u.createdAt)}
        </span>
        <span class="tag">{u.role}</span>
        {banned && <span class="tag danger">banned{u.bannedUntil ? ' until ' + fullDate(u.bannedUntil) : ''}</span>}
      </div>
      <FormError text={act.error} />
      <div class="row wrap">
        <label class="check">
          Role
          <select value={role} onChange={(e) => setRole(e.currentTarget.value as Role)} aria-label={`Role of ${u.username}`}>
            {roles.map((r) => (
              <option key={r} value={r}>
                {r}
              </option>
            ))}
          </select>
        </label>
        <button type="button" class="small" disabled={act.busy || role === u.role} onClick={() => void act.run('role')}>
          Save role
        </button>
        {banned ? (
          <button type="button" class="small secondary" disabled={act.busy} onClick={() => void act.run('unban')}>
            Unban
          </button>
        ) : (
          <>
            <input type="text" value={reason} onInput={(e) => setReason(e.currentTarget.value)} aria-label={`Reason to ban ${u.username}`} placeholder="reason" />
            <input type="datetime-local" value={until} onInput={(e) => setUntil(e.currentTarget.value)} aria-label={`Ban ${u.username} until (empty: for good)`} />
            <button type="button" class="small danger" disabled={act.busy} onClick={() => void act.run('ban')}>
              Ban
            </button>
          </>
        )}
      </div>
    </li>
  );
}
