import { useMemo } from 'preact/hooks';
import { api } from '../api';
import { Avatar } from '../components/Avatar';
import { FormError, useAction } from '../components/Form';
import { Show, useLoad } from '../components/Load';
import { duration, fullDate, nameOf, plural } from '../format';
import { PlayReporter } from '../music';
import type { PageProps } from '../routes';
import { here } from '../router';
import { me } from '../session';
import type { Mix as M } from '../types';

/** A mix with its player; a play is reported once per listen. */
export default function Mix({ params }: PageProps) {
  const id = Number(params['id']);
  const { v, set } = useLoad(async () => {
    const m = await api<M>('/api/mixes/' + id);
    document.title = m.title + ' · Plaza';
    return m;
  }, [id]);
  const reporter = useMemo(() => new PlayReporter(() => api('/api/mixes/' + id + '/plays', { method: 'POST' })), [id]);
  const like = useAction(async (m: M) => {
    const r = await api<{ liked: boolean; likes: number }>('/api/mixes/' + id + '/like', { method: m.liked ? 'DELETE' : 'PUT' });
    set({ ...m, liked: r.liked, likes: r.likes });
  });
  return (
    <section class="page narrow">
      <p>
        <a href="/mixes">← All mixes</a>
      </p>
      <Show v={v} what="This mix">
        {(m) => (
          <article class="mix">
            {m.coverUrl && <img class="cover big" src={m.coverUrl} alt={'Cover of ' + m.title} width={480} height={480} />}
            <h1>{m.title}</h1>
            <p class="meta">
              <Avatar user={m.creator} size={24} />
              <a href={'/users/' + m.creator.id}>{nameOf(m.creator)}</a>
              <time dateTime={m.createdAt}>{fullDate(m.createdAt)}</time>
            </p>
            <audio
              class="player"
              controls
              preload="metadata"
              src={m.audioUrl}
              aria-label={'Play ' + m.title}
              onPlaying={() => reporter.playing()}
              onEnded={() => reporter.ended()}
            />
            <p class="muted" data-testid="mix-stats">
              {duration(m.durationSec)} · {plural(m.plays, 'play')} · {plural(m.likes, 'like')}
            </p>
            <p>
              {m.genres.map((g) => (
                <a key={g} class="tag" href={'/mixes?genre=' + g}>
                  {g}
                </a>
              ))}
            </p>
            {me.value ? (
              <>
                <button type="button" class={m.liked ? '' : 'secondary'} aria-pressed={m.liked} onClick={() => void like.run(m)} disabled={like.busy}>
                  {m.liked ? '♥ Liked' : '♡ Like'}
                </button>
                <FormError text={like.error} />
              </>
            ) : (
              <p>
                <a href={'/sign-in?next=' + encodeURIComponent(here())}>Sign in</a> to like this mix.
              </p>
            )}
          </article>
        )}
      </Show>
    </section>
  );
}
