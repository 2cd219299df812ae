import { useEffect, useState } from 'preact/hooks';
import { api, pageQuery } from '../api';
import { fullDate } from '../format';
import type { ContactMessage, List } from '../types';

/** Messages sent with the contact form (admins). */
export default function AdminInbox() {
  const [unreadOnly, setUnreadOnly] = useState(true);
  const [items, setItems] = useState<ContactMessage[] | null>(null);
  const [cursor, setCursor] = useState<string | undefined>();
  const [error, setError] = useState('');

  const load = async (before?: string) => {
    try {
      const l = await api<List<ContactMessage>>(`/api/admin/contact-messages?${pageQuery(before)}${unreadOnly ? '&unread=true' : ''}`);
      setItems((cur) => (before && cur ? [...cur, ...l.items] : l.items));
      setCursor(l.nextCursor);
      setError('');
    } catch (e) {
      setError((e as Error).message);
    }
  };
  useEffect(() => void load(), [unreadOnly]);

  const mark = async (m: ContactMessage, read: boolean) => {
    try {
      const updated = await api<ContactMessage>('/api/admin/contact-messages/' + m.id, { method: 'PATCH', body: { read } });
      // Under "unread only", a message marked read leaves the list.
      setItems((cur) => (unreadOnly && updated.read ? cur?.filter((x) => x.id !== m.id) : cur?.map((x) => (x.id === m.id ? updated : x))) ?? null);
    } catch (e) {
      setError((e as Error).message);
    }
  };

  return (
    <section class="page">
      <h1>Contact inbox</h1>
      <label class="check">
        <input type="checkbox" checked={unreadOnly} onChange={(e) => setUnreadOnly(e.currentTarget.checked)} /> Unread only
      </label>
      {error && <p class="error" role="alert">{error}</p>}
      {items?.length === 0 && <p class="muted">Nothing here.</p>}
      <ul class="inbox">
        {items?.map((m) => (
          <li key={m.id} class={'card' + (m.read ? '' : ' unread')}>
            <div class="meta">
              <strong>{m.name}</strong> <a href={'mailto:' + m.email}>{m.email}</a> <time dateTime={m.createdAt}>{fullDate(m.createdAt)}</time>
              <span class="muted"> from {m.ip}</span>
            </div>
            <p class="body">{m.message}</p>
            <button type="button" class="small" onClick={() => void mark(m, !m.read)} aria-label={`${m.read ? 'Mark unread' : 'Mark read'}: the message from ${m.name}`}>
              {m.read ? 'Mark unread' : 'Mark read'}
            </button>
          </li>
        ))}
      </ul>
      {cursor && (
        <button type="button" onClick={() => void load(cursor)}>
          Older messages
        </button>
      )}
    </section>
  );
}
