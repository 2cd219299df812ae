import { useEffect, useState } from 'preact/hooks';
import { api } from '../api';
import { Avatar } from '../components/Avatar';
import { useAction } from '../components/Form';
import { fullDate, nameOf } from '../format';
import { navigate } from '../router';
import type { PageProps } from '../routes';
import { me } from '../session';
import type { Profile as P, Thread } from '../types';

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
      <p class="level">
        Level <strong>{p.level}</strong> · {p.xp} XP
      </p>
      {p.bio && <p class="body">{p.bio}</p>}
      {me.value && me.value.id !== p.id && (
        <p>
          <button type="button" onClick={() => void dm.run()} disabled={dm.busy}>
            Send a message
          </button>
          {dm.error && <span class="error"> {dm.error}</span>}
        </p>
      )}
    </section>
  );
}
