import { useEffect } from 'preact/hooks';
import { channels, channelsError, loadChannels } from '../channels';
import { me } from '../session';

export function ChannelList({ current }: { current?: number }) {
  const list = channels.value;
  return (
    <nav class="channel-list" aria-label="Channels">
      {channelsError.value && <p class="error">{channelsError.value}</p>}
      {!list && !channelsError.value && <p class="muted">Loading…</p>}
      {list && list.length === 0 && <p class="muted">No channels yet. An admin creates them.</p>}
      <ul>
        {list?.map((c) => (
          <li key={c.id}>
            <a href={'/channels/' + c.id} aria-current={c.id === current ? 'page' : undefined}>
              <span aria-hidden="true">#</span>
              {c.name}
              {c.private && <span class="tag">private</span>}
            </a>
          </li>
        ))}
      </ul>
    </nav>
  );
}

export default function Channels() {
  const uid = me.value?.id ?? null;
  useEffect(() => void loadChannels(uid), [uid]);
  return (
    <section class="page">
      <h1>Channels</h1>
      <div class="channel-cards">
        {channels.value?.map((c) => (
          <a class="card" key={c.id} href={'/channels/' + c.id}>
            <strong># {c.name}</strong>
            {c.private && <span class="tag">private</span>}
            {c.description && <span class="muted">{c.description}</span>}
          </a>
        ))}
      </div>
      {channels.value?.length === 0 && <p class="muted">No channels yet. An admin creates them.</p>}
      {channelsError.value && <p class="error">{channelsError.value}</p>}
    </section>
  );
}
