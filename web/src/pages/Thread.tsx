import { useEffect, useMemo } from 'preact/hooks';
import { api, pageQuery } from '../api';
import { Chat } from '../components/Chat';
import { refreshThreads, threadPartner, threads } from '../dms';
import { nameOf } from '../format';
import type { PageProps } from '../routes';
import { me } from '../session';
import { Timeline } from '../timeline';
import type { List, Message } from '../types';

const maxMessage = 4000;

/** One direct-message conversation. Reading its newest page marks it read. */
export default function Thread({ params }: PageProps) {
  const id = Number(params['id']);
  const uid = me.value?.id ?? null;
  const url = `/api/messages/threads/${id}/messages`;
  const timeline = useMemo(() => {
    let markTimer: ReturnType<typeof setTimeout> | undefined;
    return new Timeline({
      room: 'thread:' + id,
      fetch: async (before) => {
        const page = await api<List<Message>>(`${url}?${pageQuery(before)}`);
        if (!before) refreshThreads();
        return page;
      },
      created: 'message.created',
      me: uid,
      // Seen while open: read the newest message again so it counts as read.
      onIncoming: () => {
        clearTimeout(markTimer);
        markTimer = setTimeout(() => void api(`${url}?limit=1`).then(() => refreshThreads()), 500);
      },
    });
  }, [id, uid]);
  useEffect(() => {
    timeline.start();
    return () => timeline.stop();
  }, [timeline]);
  useEffect(() => {
    if (!threads.value) refreshThreads(0);
  }, []);

  const closed = timeline.closed.value;
  const other = closed ? undefined : (threadPartner(id, uid) ?? timeline.items.value.find((m) => m.author.id !== uid)?.author);
  const name = other ? nameOf(other) : closed ? 'Conversation not found' : 'Conversation';
  useEffect(() => {
    if (other) document.title = nameOf(other) + ' · Plaza';
  }, [other?.id]);
  return (
    <div class="page chat-page">
      <Chat
        timeline={timeline}
        room={'thread:' + id}
        label={other ? 'Message ' + name : 'Message'}
        maxLength={maxMessage}
        closedText="This conversation does not exist, or you are not part of it."
        header={
          <>
            <p>
              <a href="/messages">← All messages</a>
            </p>
            <h1>{other ? <a href={'/users/' + other.id}>{name}</a> : name}</h1>
          </>
        }
        post={(body) => api<Message>(url, { method: 'POST', body: { body } })}
      />
    </div>
  );
}
