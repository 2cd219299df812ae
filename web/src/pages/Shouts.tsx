import { useEffect, useMemo, useState } from 'preact/hooks';
import { api, pageQuery } from '../api';
import { Avatar } from '../components/Avatar';
import { FormError, useAction } from '../components/Form';
import { codePoints } from '../errors';
import { fullDate, nameOf, when } from '../format';
import { me } from '../session';
import { Timeline } from '../timeline';
import type { List, Message } from '../types';

const maxShout = 280;

/** Short public posts, live in the chat room; newest first. */
export default function Shouts() {
  const uid = me.value?.id ?? null;
  const timeline = useMemo(
    () =>
      new Timeline({
        room: 'chat',
        fetch: (before) => api<List<Message>>('/api/shouts?' + pageQuery(before, 30)),
        created: 'shout.created',
        me: uid,
      }),
    [uid],
  );
  useEffect(() => {
    timeline.start();
    return () => timeline.stop();
  }, [timeline]);
  const [text, setText] = useState('');
  // The server counts characters (code points); maxLength would count UTF-16 units.
  const left = maxShout - codePoints(text);
  const post = useAction(async () => {
    if (left < 0) throw new Error(`A shout is at most ${maxShout} characters: remove ${-left}.`);
    const m = await api<Message>('/api/shouts', { method: 'POST', body: { body: text } });
    timeline.add(m);
    setText('');
  });
  const items = [...timeline.items.value].reverse();
  return (
    <section class="page narrow">
      <h1>Shouts</h1>
      {me.value ? (
        <form
          class="shout-form"
          onSubmit={(e) => {
            e.preventDefault();
            void post.run();
          }}
        >
          <FormError text={post.error} />
          <label for="shout">What's happening?</label>
          <textarea id="shout" rows={2} value={text} aria-describedby="shout-left" aria-invalid={left < 0 || undefined} onInput={(e) => setText(e.currentTarget.value)} />
          <div class="row">
            <small id="shout-left" class={left < 0 ? 'error' : 'muted'} data-testid="shout-left">
              {left >= 0 ? `${left} characters left` : `${-left} characters too many`}
            </small>
            <button type="submit" disabled={post.busy || !text.trim() || left < 0}>
              Shout
            </button>
          </div>
        </form>
      ) : (
        <p>
          <a href="/sign-in?next=/shouts">Sign in</a> to shout.
        </p>
      )}
      {timeline.error.value && <p class="error">{timeline.error.value}</p>}
      <ol class="shouts" aria-live="polite">
        {items.map((s) => (
          <li key={s.id} class="card">
            <Avatar user={s.author} />
            <div>
              <div class="meta">
                <a class="author" href={'/users/' + s.author.id}>
                  {nameOf(s.author)}
                </a>
                <time dateTime={s.createdAt} title={fullDate(s.createdAt)}>
                  {when(s.createdAt)}
                </time>
              </div>
              <p class="body">{s.body}</p>
            </div>
          </li>
        ))}
      </ol>
      {timeline.hasOlder.value && (
        <button type="button" onClick={() => void timeline.loadOlder()} disabled={timeline.loadingOlder.value}>
          Older shouts
        </button>
      )}
    </section>
  );
}
