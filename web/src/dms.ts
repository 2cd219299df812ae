// Unread direct messages, for the badge in the navigation: refreshed from
// GET /api/messages/threads when a DM arrives (dm.received in the user's
// own room) and when a thread has been read.

import { signal } from '@preact/signals';
import { api } from './api';
import type { Author, List, Thread } from './types';

export const unreadTotal = signal(0);
/** Thread list as last fetched, for the Messages page. */
export const threads = signal<Thread[] | null>(null);

// Who each thread opened in this tab is with: GET /api/messages/threads
// lists a thread only once it has a message, and nothing else names the
// other member of a new one. Kept in sessionStorage, so a reload keeps it,
// with who opened it (another sign-in in the tab sees another partner).
interface Opened {
  by: number;
  with: Author;
}
const openedKey = 'plaza.openedThreads';
const opened = signal<ReadonlyMap<number, Opened>>(readOpened());

function readOpened(): Map<number, Opened> {
  try {
    return new Map(JSON.parse(sessionStorage.getItem(openedKey) ?? '[]') as [number, Opened][]);
  } catch {
    return new Map();
  }
}

function saveOpened(m: ReadonlyMap<number, Opened>): void {
  opened.value = m;
  try {
    sessionStorage.setItem(openedKey, JSON.stringify([...m]));
  } catch {
    // storage full or off: the tab still remembers
  }
}

let timer: ReturnType<typeof setTimeout> | undefined;

/** Remembers a thread POST /api/messages/threads answered to user by, so its page can name the other member. */
export function rememberThread(t: Thread, by: number): void {
  saveOpened(new Map(opened.value).set(t.id, { by, with: t.with }));
}

/** The other member of thread id for user me, if known from the list or from opening it. */
export function threadPartner(id: number, me: number | null): Author | undefined {
  const o = opened.value.get(id);
  return threads.value?.find((x) => x.id === id)?.with ?? (o && o.by === me ? o.with : undefined);
}

export function refreshThreads(delay = 250): void {
  clearTimeout(timer);
  timer = setTimeout(async () => {
    try {
      const l = await api<List<Thread>>('/api/messages/threads?limit=100');
      threads.value = l.items;
      unreadTotal.value = l.items.reduce((n, t) => n + t.unread, 0);
    } catch {
      // the badge stays as it was; the next event tries again
    }
  }, delay);
}

export function resetThreads(): void {
  clearTimeout(timer);
  threads.value = null;
  unreadTotal.value = 0;
}
