import { useEffect, useState } from 'preact/hooks';
import { api } from '../api';
import { Avatar } from '../components/Avatar';
import { ErrorText, useAction } from '../components/Form';
import { rememberThread } from '../dms';
import { fullDate, nameOf } from '../format';
import { navigate } from '../router';
import type { PageProps } from '../routes';
import { me } from '../session';
import type { Achievement, Collectible, List, Profile as P, Thread, XPEntry } from '../types';
import { Show, useLoad } from '../components/Load';
import { defaultLevels, xpBar } from '../gamify';

export default function Profile({ params }: PageProps) {
  const id = Number(params['id']);
  const [p, setP] = useState<P | null>(null);
  const [error, setError] = useState('');
  useEffect(() => {
    api<P>('/api/users/' + id)
      .then((x) => {
        setP(x);
        document.title = nameOf(x) + ' · Plaza';
      })
      .catch((e: Error) => setError(e.message));
  }, [id]);
  const dm = useAction(async () => {
    const t = await api<Thread>('/api/messages/threads', { method: 'POST', body: { userId: id } });
    rememberThread(t, me.value?.id ?? 0);
    navigate('/messages/' + t.id);
  });
  if (error)
    return (
      <section class="page narrow">
        <h1>Profile</h1>
        <p class="error">{error}</p>
      </section>
    );
  if (!p) return <p class="muted">Loading…</p>;
  return (
    <section class="page narrow profile">
      <div class="profile-head">
        <Avatar user={p} size={72} />
        <div>
          <h1>{nameOf(p)}</h1>
          <p class="muted">
            @{p.username} · {p.role} · member since {fullDate(p.createdAt)}
          </p>
        </div>
      </div>
      {me.value?.id === p.id ? <MyXP /> : <XPBar xp={p.xp} level={p.level} next={defaultLevels[p.level] ?? null} />}
      {p.bio && <p class="body">{p.bio}</p>}
      <Achievements id={p.id} />
      <Collectibles id={p.id} />
      {me.value && me.value.id !== p.id && (
        <p>
          <button type="button" onClick={() => void dm.run()} disabled={dm.busy}>
            Send a message
          </button>{' '}
          <a class="button secondary-link" href={'/wallet?to=' + p.id}>
            Send a tip
          </a>
          {dm.error && (
            <span class="error" role="alert">
              {' '}
              <ErrorText text={dm.error} />
            </span>
          )}
        </p>
      )}
    </section>
  );
}

function XPBar({ xp, level, next }: { xp: number; level: number; next: number | null }) {
  const b = xpBar(xp, level, next);
  return (
    <div class="level" data-testid="xp">
      <p>
        Level <strong>{level}</strong> · {xp} XP{b.to !== null ? ` · ${b.to - xp} XP to level ${level + 1}` : ' · top level'}
      </p>
      <progress class="xp-bar" max={100} value={Math.round(b.fraction * 100)} aria-label={`Progress to level ${level + 1}`} />
    </div>
  );
}

const reasons: Record<string, string> = {
  message_posted: 'Message posted',
  reaction_received: 'Reaction received',
  lesson_completed: 'Lesson completed',
  course_completed: 'Course completed',
  event_attended: 'Event attended',
  mix_played: 'Mix played',
  achievement: 'Achievement',
};

/** My own standing and the latest entries of my XP ledger. */
function MyXP() {
  const { v } = useLoad(() => api<List<XPEntry> & { xp: number; level: number; nextLevelAt: number | null }>('/api/users/me/xp?limit=10'), []);
  return (
    <Show v={v} what="Your XP">
      {(l) => (
        <>
          <XPBar xp={l.xp} level={l.level} next={l.nextLevelAt} />
          {l.items.length > 0 && (
            <details class="xp-ledger">
              <summary>Latest XP</summary>
              <ul>
                {l.items.map((e, i) => (
                  <li key={i}>
                    {e.amount > 0 ? '+' : ''}
                    {e.amount} · {reasons[e.reason] ?? e.reason} <small class="muted">{fullDate(e.createdAt)}</small>
                  </li>
                ))}
              </ul>
            </details>
          )}
        </>
      )}
    </Show>
  );
}

function Achievements({ id }: { id: number }) {
  const { v } = useLoad(() => api<List<{ achievement: Achievement; awardedAt: string }>>(`/api/users/${id}/achievements`), [id]);
  return (
    <section aria-labelledby="ach-h">
      <h2 id="ach-h">Achievements</h2>
      <Show v={v} what="Achievements">
        {(l) =>
          l.items.length === 0 ? (
            <p class="muted">None yet.</p>
          ) : (
            <ul class="badges">
              {l.items.map(({ achievement: a, awardedAt }) => (
                <li key={a.id} class={'card rarity-' + a.rarity} title={a.description}>
                  {a.iconUrl && <img src={a.iconUrl} alt="" width={40} height={40} loading="lazy" />}
                  <strong>{a.name}</strong>
                  <small class="muted">
                    {a.rarity} · +{a.xp} XP · {fullDate(awardedAt)}
                  </small>
                </li>
              ))}
            </ul>
          )
        }
      </Show>
    </section>
  );
}

function Collectibles({ id }: { id: number }) {
  const { v } = useLoad(() => api<List<{ collectible: Collectible; serial: number; acquiredAt: string }>>(`/api/users/${id}/collectibles`), [id]);
  return (
    <section aria-labelledby="col-h">
      <h2 id="col-h">Collectibles</h2>
      <p>
        <a href="/collectibles">All collectibles</a>
      </p>
      <Show v={v} what="Collectibles">
        {(l) =>
          l.items.length === 0 ? (
            <p class="muted">None yet.</p>
          ) : (
            <ul class="badges">
              {l.items.map(({ collectible: c, serial }) => (
                <li key={c.id + ':' + serial} class={'card rarity-' + c.rarity}>
                  {c.imageUrl && <img src={c.imageUrl} alt="" width={64} height={64} loading="lazy" />}
                  <strong>{c.name}</strong>
                  <small class="muted">
                    {c.rarity} · #{serial}
                    {c.supply !== null && ' of ' + c.supply}
                  </small>
                </li>
              ))}
            </ul>
          )
        }
      </Show>
    </section>
  );
}
