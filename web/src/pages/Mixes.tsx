import { api } from '../api';
import { Avatar } from '../components/Avatar';
import { Show, useLoad } from '../components/Load';
import { duration, nameOf, plural } from '../format';
import { genres } from '../music';
import { navigate } from '../router';
import type { PageProps } from '../routes';
import { allowed } from '../session';
import type { List, Mix } from '../types';

/** Mixes by genre, most recent or most played. */
export default function Mixes({ query }: PageProps) {
  const sort = query.get('sort') === 'popular' ? 'popular' : 'recent';
  const genre = query.get('genre') ?? '';
  const q = new URLSearchParams({ sort, limit: '50' });
  if (genre) q.set('genre', genre);
  const { v } = useLoad(() => api<List<Mix>>('/api/mixes?' + q.toString()), [sort, genre]);
  const go = (s: string, g: string) => navigate('/mixes?' + new URLSearchParams({ sort: s, ...(g ? { genre: g } : {}) }).toString());
  return (
    <section class="page">
      <div class="row">
        <h1>Mixes</h1>
        {allowed('creator') && (
          <a class="button small" href="/mixes/new">
            Publish a mix
          </a>
        )}
      </div>
      <div class="filters">
        <div class="tabs" role="group" aria-label="Order">
          <button type="button" class={sort === 'recent' ? 'small' : 'small secondary'} aria-pressed={sort === 'recent'} onClick={() => go('recent', genre)}>
            Recent
          </button>
          <button type="button" class={sort === 'popular' ? 'small' : 'small secondary'} aria-pressed={sort === 'popular'} onClick={() => go('popular', genre)}>
            Popular
          </button>
        </div>
        <div class="field inline">
          <label for="genre">Genre</label>
          <select id="genre" value={genre} onChange={(e) => go(sort, e.currentTarget.value)}>
            <option value="">All genres</option>
            {genres.map((g) => (
              <option key={g} value={g}>
                {g}
              </option>
            ))}
          </select>
        </div>
      </div>
      <Show v={v} what="Mixes">
        {(l) =>
          l.items.length === 0 ? (
            <p class="muted">No mixes{genre ? ' in ' + genre : ''} yet.</p>
          ) : (
            <ul class="cards-grid mixes" data-testid="mixes">
              {l.items.map((m) => (
                <li key={m.id} class="card mix-card">
                  {m.coverUrl ? <img class="cover" src={m.coverUrl} alt="" loading="lazy" width={320} height={320} /> : <div class="cover blank" aria-hidden="true" />}
                  <h2>
                    <a href={'/mixes/' + m.id}>{m.title}</a>
                  </h2>
                  <p class="meta">
                    <Avatar user={m.creator} size={24} /> {nameOf(m.creator)}
                  </p>
                  <p class="muted">
                    {duration(m.durationSec)} · {plural(m.plays, 'play')} · {plural(m.likes, 'like')}
                  </p>
                  <p>
                    {m.genres.map((g) => (
                      <span key={g} class="tag">
                        {g}
                      </span>
                    ))}
                  </p>
                </li>
              ))}
            </ul>
          )
        }
      </Show>
    </section>
  );
}
