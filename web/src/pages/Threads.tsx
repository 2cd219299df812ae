import { useEffect } from 'preact/hooks';
import { Avatar } from '../components/Avatar';
import { refreshThreads, threads } from '../dms';
import { nameOf, when } from '../format';

/** Direct message conversations, newest first, with unread counts. */
export default function Threads() {
  useEffect(() => refreshThreads(0), []);
  const list = threads.value;
  return (
    <section class="page">
      <h1>Messages</h1>
      {!list && <p class="muted">Loading…</p>}
      {list?.length === 0 && <p class="muted">No conversations yet. Open someone's profile (click their name in a channel) and send them a message.</p>}
      <ul class="threads">
        {list?.map((t) => (
          <li key={t.id}>
            <a href={'/messages/' + t.id} class={t.unread ? 'unread' : ''}>
              <Avatar user={t.with} />
              <span class="grow">
                <strong>{nameOf(t.with)}</strong> <span class="muted">@{t.with.username}</span>
              </span>
              <time dateTime={t.lastMessageAt}>{when(t.lastMessageAt)}</time>
              {t.unread > 0 && (
                <span class="badge" aria-label={`${t.unread} unread`}>
                  {t.unread}
                </span>
              )}
            </a>
          </li>
        ))}
      </ul>
    </section>
  );
}
