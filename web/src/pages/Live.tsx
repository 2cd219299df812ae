import { useEffect, useRef, useState } from 'preact/hooks';
import { api } from '../api';
import { Avatar } from '../components/Avatar';
import { Field, FormError, Submit, submit, useAction } from '../components/Form';
import { Show, useLoad } from '../components/Load';
import { UploadField, type Uploaded } from '../components/Upload';
import { fullDate, nameOf, plural, when } from '../format';
import { realtime } from '../realtime';
import { allowed, me } from '../session';
import type { List, NowPlaying, PlayedTrack } from '../types';

const room = 'live-stream';

/** Now playing, live from the live-stream room; the history; the creator's form. */
export default function Live() {
  const np = useLoad(() => api<NowPlaying>('/api/live/now-playing'), []);
  const history = useLoad(() => api<List<PlayedTrack>>('/api/live/history?limit=20'), []);
  const signedIn = me.value !== null;
  // Listeners are the room's subscribers: once subscribed, the room's own
  // presence keeps the count (the REST figure may be a second old).
  const [online, setOnline] = useState<ReadonlySet<number> | null>(null);
  const [onlineCount, setOnlineCount] = useState(0);
  useEffect(() => {
    // Without a session there is no WebSocket; with one, rooms past 200
    // listeners send no presence: read again now and then.
    const t = setInterval(() => {
      np.reload();
      if (!signedIn) history.reload();
    }, 30_000);
    if (!signedIn) return () => clearInterval(t);
    const off = realtime.subscribe(room, {
      event: (e) => {
        if (e.type === 'presence') {
          const d = e.data as { joined?: number[]; left?: number[] };
          setOnline((cur) => {
            const next = new Set(cur ?? []);
            for (const id of d.joined ?? []) next.add(id);
            for (const id of d.left ?? []) next.delete(id);
            setOnlineCount(next.size);
            return next;
          });
          return;
        }
        if (e.type !== 'now-playing.updated') return;
        np.set(e.data as NowPlaying);
        history.reload();
      },
      // Joined (we count as a listener now) or back after a gap: read it afresh.
      ready: (info) => {
        setOnline(new Set(info.online));
        setOnlineCount(info.onlineCount);
        if (info.refetch) {
          np.reload();
          history.reload();
        }
      },
    });
    return () => {
      clearInterval(t);
      off();
    };
  }, [signedIn]);
  return (
    <section class="page narrow">
      <h1>Now playing</h1>
      <Show v={np.v} what="Now playing">
        {(n) => <NowPlayingCard n={online && online.size <= 200 ? { ...n, listeners: Math.max(onlineCount, online.size) } : n} />}
      </Show>
      {allowed('creator') && np.v.state === 'ok' && <SetNowPlaying current={np.v.data} onSet={np.set} />}
      <h2>Played before</h2>
      <Show v={history.v} what="The history">
        {(l) =>
          l.items.length === 0 ? (
            <p class="muted">Nothing played yet.</p>
          ) : (
            <ol class="history" data-testid="live-history">
              {l.items.map((t) => (
                <li key={t.id}>
                  <strong>{t.title}</strong>
                  {t.artist && ' · ' + t.artist}
                  <small class="muted">
                    {' '}
                    {t.dj && 'by ' + nameOf(t.dj) + ', '}
                    <time dateTime={t.startedAt} title={fullDate(t.startedAt)}>
                      {when(t.startedAt)}
                    </time>
                  </small>
                </li>
              ))}
            </ol>
          )
        }
      </Show>
    </section>
  );
}

export function NowPlayingCard({ n }: { n: NowPlaying }) {
  return (
    <div class="card now-playing" data-testid="now-playing" aria-live="polite">
      {n.track?.artworkUrl ? <img class="cover" src={n.track.artworkUrl} alt="" width={96} height={96} /> : <div class="cover blank" aria-hidden="true" />}
      <div>
        <p>
          <span class={n.live ? 'tag live' : 'tag'}>{n.live ? 'On air' : 'Off air'}</span>{' '}
          <span class="muted" data-testid="listeners">
            {plural(n.listeners, 'listener')}
          </span>
        </p>
        {n.track ? (
          <p class="track">
            <strong>{n.track.title}</strong>
            {n.track.artist && <> · {n.track.artist}</>}
          </p>
        ) : (
          <p class="muted">No track right now.</p>
        )}
        {n.dj && (
          <p class="meta">
            <Avatar user={n.dj} size={24} /> {nameOf(n.dj)}
            {n.startedAt && <small class="muted"> · since {when(n.startedAt)}</small>}
          </p>
        )}
      </div>
    </div>
  );
}

/**
 * The creator's form. On their own show (or off air) it puts a track on air
 * and ends the show. When another DJ is on air, PUT would make the viewer
 * the DJ: the button says it replaces that DJ and asks first. Ending
 * another DJ's show is offered to moderators only (the API lets any
 * creator do it; the page keeps that to staff).
 */
function SetNowPlaying({ current, onSet }: { current: NowPlaying; onSet: (n: NowPlaying) => void }) {
  const [title, setTitle] = useState('');
  const [artist, setArtist] = useState('');
  const [art, setArt] = useState<Uploaded | null>(null);
  const [asking, setAsking] = useState<'take' | 'end' | null>(null);
  const other = current.live && current.dj && current.dj.id !== me.value?.id ? current.dj : null;
  const confirm = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (asking) confirm.current?.focus();
  }, [asking]);
  // The show changed hands (or ended) while asking: ask again about the new state.
  useEffect(() => setAsking(null), [other?.id]);
  const save = useAction(async (live: boolean) => {
    setAsking(null);
    const body = live ? { live: true, track: title.trim() ? { title, artist, artworkUrl: art?.url ?? '' } : null } : { live: false, track: null };
    onSet(await api<NowPlaying>('/api/live/now-playing', { method: 'PUT', body }));
    if (live) setTitle('');
  });
  const otherName = other ? nameOf(other) : '';
  return (
    <form
      class="card set-live"
      onSubmit={submit(async () => {
        if (other) setAsking('take');
        else await save.run(true);
      })}
      noValidate
      aria-labelledby="set-live-h"
    >
      <h2 id="set-live-h">Your show</h2>
      {other && (
        <p class="muted" data-testid="live-other">
          {otherName} is on air. Going on air ends their show and makes you the DJ.
        </p>
      )}
      <FormError text={save.error} />
      <Field label="Track title" name="trackTitle" value={title} onValue={setTitle} maxLength={200} error={save.fields['track.title']} />
      <Field label="Artist" name="trackArtist" value={artist} onValue={setArtist} maxLength={200} error={save.fields['track.artist']} />
      <UploadField id="track-art" label="Artwork (optional)" accept="image/png,image/jpeg,image/gif,image/webp" onDone={setArt} />
      {asking ? (
        <div class="row wrap" role="group" aria-label="Confirm">
          <span>{asking === 'take' ? `Replace ${otherName}'s show with yours?` : `End ${otherName}'s show for everyone?`}</span>
          <button type="button" class={asking === 'end' ? 'danger' : ''} ref={confirm} disabled={save.busy} onClick={() => void save.run(asking === 'take')}>
            {asking === 'take' ? `Yes, replace ${otherName}` : `Yes, end the show`}
          </button>
          <button type="button" class="secondary" onClick={() => setAsking(null)}>
            Cancel
          </button>
        </div>
      ) : (
        <div class="row wrap">
          <Submit busy={save.busy}>{other ? `Go on air (replaces ${otherName})` : current.live ? 'Update now playing' : 'Go on air'}</Submit>
          {current.live && !other && (
            <button type="button" class="secondary" disabled={save.busy} onClick={() => void save.run(false)}>
              Go off air
            </button>
          )}
          {other && allowed('moderator') && (
            <button type="button" class="secondary" disabled={save.busy} onClick={() => setAsking('end')}>
              End {otherName}'s show…
            </button>
          )}
        </div>
      )}
    </form>
  );
}
