import { useEffect, useMemo } from 'preact/hooks';
import { api, pageQuery } from '../api';
import { channels, loadChannels } from '../channels';
import { Chat } from '../components/Chat';
import type { PageProps } from '../routes';
import { isModerator, me } from '../session';
import { Timeline } from '../timeline';
import type { List, Message } from '../types';
import { ChannelList } from './Channels';

const maxMessage = 4000;

export default function Channel({ params }: PageProps) {
  const id = Number(params['id']);
  const uid = me.value?.id ?? null;
  useEffect(() => void loadChannels(uid), [uid]);
  const room = 'channel:' + id;
  const timeline = useMemo(
    () =>
      new Timeline({
        room,
        fetch: (before) => api<List<Message>>(`/api/community/channels/${id}/messages?${pageQuery(before)}`),
        created: 'message.created',
        edited: 'message.edited',
        deleted: 'message.deleted',
        me: uid,
      }),
    [id, uid],
  );
  useEffect(() => {
    timeline.start();
    return () => timeline.stop();
  }, [timeline]);

  const ch = channels.value?.find((c) => c.id === id);
  const closed = timeline.closed.value;
  const name = ch ? ch.name : closed ? 'Channel not found' : 'channel ' + id;
  useEffect(() => {
    if (ch) document.title = '#' + ch.name + ' · Plaza';
  }, [ch]);

  return (
    <div class="with-sidebar">
      <ChannelList current={id} />
      <Chat
        timeline={timeline}
        room={room}
        label={'Message #' + name}
        maxLength={maxMessage}
        closedText="This channel does not exist, or it is private and you are not a member. Pick another channel from the list."
        header={
          <>
            <h1>
              {!closed && <span aria-hidden="true">#</span>}
              {name}
            </h1>
            {ch?.description && <p class="muted">{ch.description}</p>}
          </>
        }
        post={(body) => api<Message>(`/api/community/channels/${id}/messages`, { method: 'POST', body: { body } })}
        edit={(mid, body) => api<Message>(`/api/community/messages/${mid}`, { method: 'PATCH', body: { body } })}
        remove={async (mid) => {
          await api(`/api/community/messages/${mid}`, { method: 'DELETE' });
          timeline.drop(mid);
        }}
        canModify={(m) => m.author.id === uid || isModerator.value}
      />
    </div>
  );
}
