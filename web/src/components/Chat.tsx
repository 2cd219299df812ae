import type { ComponentChildren } from 'preact';
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { clearDraft, getDraft, setDraft } from '../drafts';
import { codePoints } from '../errors';
import { fullDate, nameOf, when } from '../format';
import { realtime } from '../realtime';
import { me } from '../session';
import type { Timeline } from '../timeline';
import type { Message } from '../types';
import { userName } from '../users';
import { Avatar } from './Avatar';
import { ErrorText, useAction } from './Form';

export interface ChatProps {
  timeline: Timeline;
  room: string;
  /** Label of the message box, e.g. "Message #general". */
  label: string;
  header: ComponentChildren;
  post(body: string): Promise<Message>;
  edit?(id: number, body: string): Promise<Message>;
  remove?(id: number): Promise<void>;
  /** Whether the signed-in user may edit or delete m. */
  canModify?(m: Message): boolean;
  maxLength: number;
  /** Said instead of the conversation when it does not exist or may not be opened. */
  closedText: string;
}

/** A live conversation: history that scrolls back, typing, a message box. */
export function Chat(p: ChatProps) {
  const t = p.timeline;
  const items = t.items.value;
  const box = useRef<HTMLDivElement>(null);
  const top = useRef<HTMLDivElement>(null);
  const stick = useRef(true);
  const prevFirst = useRef<number | undefined>(undefined);
  const prevHeight = useRef(0);
  const [unseen, setUnseen] = useState(0);

  const onScroll = () => {
    const el = box.current;
    if (!el) return;
    stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < 80;
    if (stick.current) setUnseen(0);
  };

  // Keep the reader's place: at the bottom as messages arrive, or where
  // they were when older messages are added above.
  useLayoutEffect(() => {
    const el = box.current;
    if (!el) return;
    const first = items[0]?.id;
    if (prevFirst.current !== undefined && first !== undefined && first < prevFirst.current && !stick.current) {
      el.scrollTop += el.scrollHeight - prevHeight.current;
    } else if (stick.current) {
      el.scrollTop = el.scrollHeight;
    } else {
      setUnseen((n) => n + 1);
    }
    prevFirst.current = first;
    prevHeight.current = el.scrollHeight;
  }, [items]);

  // Scrolling to the top loads the page before it.
  useEffect(() => {
    const el = top.current;
    if (!el || !t.hasOlder.value) return;
    const io = new IntersectionObserver((es) => es.some((e) => e.isIntersecting) && void t.loadOlder(), { root: box.current });
    io.observe(el);
    return () => io.disconnect();
  }, [items, t.hasOlder.value]);

  const toBottom = () => {
    const el = box.current;
    if (el) el.scrollTop = el.scrollHeight;
    stick.current = true;
    setUnseen(0);
  };

  const typing = [...t.typing.value.keys()].map(userName);
  const online = t.onlineCount.value;

  if (t.closed.value) {
    return (
      <section class="chat" aria-label={p.label}>
        <header class="chat-head">
          <div>{p.header}</div>
        </header>
        <p class="card" role="status" data-testid="chat-closed">
          {p.closedText}
        </p>
      </section>
    );
  }

  return (
    <section class="chat" aria-label={p.label}>
      <header class="chat-head">
        <div>{p.header}</div>
        {realtime.status.value === 'open' && (
          <details class="online">
            <summary data-testid="online-count">{online} online</summary>
            <ul>
              {t.online.value.map((id) => (
                <li key={id}>
                  <a href={'/users/' + id}>{userName(id)}</a>
                </li>
              ))}
            </ul>
          </details>
        )}
      </header>
      <div class="messages" ref={box} onScroll={onScroll} tabIndex={0} aria-label="Messages">
        <div ref={top} class="history-edge">
          {t.hasOlder.value ? (
            <button type="button" class="link" onClick={() => void t.loadOlder()} disabled={t.loadingOlder.value}>
              {t.loadingOlder.value ? 'Loading older messages…' : 'Load older messages'}
            </button>
          ) : (
            !t.loading.value && <span class="muted">{items.length ? 'The start of the conversation.' : 'No messages yet. Say hello!'}</span>
          )}
        </div>
        {t.loading.value && <p class="muted">Loading messages…</p>}
        <div role="log" aria-live="polite" aria-relevant="additions">
          <ol class="message-list">
            {items.map((m) => (
              <MessageItem key={m.id} m={m} p={p} />
            ))}
          </ol>
        </div>
      </div>
      {unseen > 0 && (
        <button type="button" class="new-below" onClick={toBottom}>
          New messages below ↓
        </button>
      )}
      {t.error.value && (
        <p class="error" role="alert">
          {t.error.value}
        </p>
      )}
      <p class="typing" aria-live="polite" data-testid="typing">
        {typing.length === 1 ? `${typing[0]} is typing…` : typing.length > 1 ? `${typing.join(', ')} are typing…` : ''}
      </p>
      {me.value ? (
        <Composer p={p} onSent={(m) => { t.add(m); toBottom(); }} />
      ) : (
        <p class="composer-off">
          <a href={'/sign-in?next=' + encodeURIComponent(location.pathname)}>Sign in</a> to post.
        </p>
      )}
    </section>
  );
}

function MessageItem({ m, p }: { m: Message; p: ChatProps }) {
  const [editing, setEditing] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const mine = p.canModify?.(m) ?? false;
  const del = useAction(async () => {
    await p.remove?.(m.id);
  });
  return (
    <li class="msg" id={'m' + m.id} data-id={m.id}>
      <Avatar user={m.author} />
      <div class="msg-main">
        <div class="meta">
          <a class="author" href={'/users/' + m.author.id}>
            {nameOf(m.author)}
          </a>
          <time dateTime={m.createdAt} title={fullDate(m.createdAt)}>
            {when(m.createdAt)}
          </time>
          {m.editedAt && <span class="muted">(edited)</span>}
        </div>
        {editing && p.edit ? (
          <EditForm m={m} p={p} done={() => setEditing(false)} />
        ) : (
          <p class="body">{m.body}</p>
        )}
        {mine && !editing && (
          <div class="actions">
            {p.edit && (
              <button type="button" class="link" onClick={() => setEditing(true)} aria-label={`Edit message from ${when(m.createdAt)}`}>
                Edit
              </button>
            )}
            {p.remove &&
              (confirming ? (
                <>
                  <span>Delete this message?</span>
                  <button type="button" class="link danger" onClick={() => void del.run()} disabled={del.busy}>
                    Yes, delete
                  </button>
                  <button type="button" class="link" onClick={() => setConfirming(false)}>
                    Keep
                  </button>
                </>
              ) : (
                <button type="button" class="link" onClick={() => setConfirming(true)} aria-label={`Delete message from ${when(m.createdAt)}`}>
                  Delete
                </button>
              ))}
            {del.error && (
              <span class="error" role="alert">
                <ErrorText text={del.error} />
              </span>
            )}
          </div>
        )}
      </div>
    </li>
  );
}

/** "N characters too many" under a box past the server's limit (in code points, as it counts). */
function TooLong({ text, max, id }: { text: string; max: number; id: string }) {
  const over = codePoints(text) - max;
  if (over <= 0) return null;
  return (
    <small id={id} class="error" role="status">
      {over} {over === 1 ? 'character' : 'characters'} too many (at most {max}).
    </small>
  );
}

function EditForm({ m, p, done }: { m: Message; p: ChatProps; done: () => void }) {
  const [text, setText] = useState(m.body);
  const tooLong = codePoints(text.trim()) > p.maxLength;
  const save = useAction(async () => {
    if (text.trim() !== m.body) p.timeline.add(await p.edit!(m.id, text));
    done();
  });
  return (
    <form
      class="edit"
      onSubmit={(e) => {
        e.preventDefault();
        void save.run();
      }}
    >
      <label class="sr-only" for={'edit-' + m.id}>
        Edit message
      </label>
      <textarea
        id={'edit-' + m.id}
        value={text}
        aria-invalid={tooLong || undefined}
        aria-describedby={tooLong ? 'edit-' + m.id + '-long' : undefined}
        onInput={(e) => setText(e.currentTarget.value)}
        onKeyDown={(e) => e.key === 'Escape' && done()}
        ref={(el) => el?.focus()}
      />
      <TooLong text={text.trim()} max={p.maxLength} id={'edit-' + m.id + '-long'} />
      <div class="actions">
        <button type="submit" disabled={save.busy || tooLong}>
          Save
        </button>
        <button type="button" class="link" onClick={done}>
          Cancel
        </button>
        {save.error && (
          <span class="error" role="alert">
            <ErrorText text={save.error} />
          </span>
        )}
      </div>
    </form>
  );
}

const typingEvery = 3000;

function Composer({ p, onSent }: { p: ChatProps; onSent: (m: Message) => void }) {
  const [text, setText] = useState(() => getDraft(p.room));
  const lastTyping = useRef(0);
  const tooLong = codePoints(text.trim()) > p.maxLength;
  const send = useAction(async () => {
    const body = text.trim();
    if (!body || tooLong) return;
    const m = await p.post(body);
    clearDraft(p.room);
    setText('');
    lastTyping.current = 0;
    onSent(m);
  });
  const onInput = (v: string) => {
    setText(v);
    setDraft(p.room, v);
    const now = Date.now();
    if (v.trim() && now - lastTyping.current > typingEvery) {
      lastTyping.current = now;
      realtime.typing(p.room);
    }
  };
  return (
    <form
      class="composer"
      onSubmit={(e) => {
        e.preventDefault();
        void send.run();
      }}
    >
      {send.error && (
        <p class="error" role="alert">
          <ErrorText text={send.error} />
        </p>
      )}
      <div class="row">
        <label class="sr-only" for="composer">
          {p.label}
        </label>
        <textarea
          id="composer"
          rows={1}
          value={text}
          placeholder={p.label}
          aria-invalid={tooLong || undefined}
          aria-describedby={tooLong ? 'composer-long' : undefined}
          onInput={(e) => onInput(e.currentTarget.value)}
          onKeyDown={(e) => {
            if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
              e.preventDefault();
              void send.run();
            }
          }}
        />
        <button type="submit" disabled={send.busy || !text.trim() || tooLong}>
          Send
        </button>
      </div>
      <TooLong text={text.trim()} max={p.maxLength} id="composer-long" />
      <small class="muted hint">Enter sends, Shift+Enter starts a new line.</small>
    </form>
  );
}
