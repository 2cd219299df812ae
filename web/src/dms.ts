// Unread direct messages, for the badge in the navigation: refreshed from
// GET /api/messages/threads when a DM arrives (dm.received in the user's
// own room) and when a thread has been read.

import { signal } from '@preact/signals';
import { api } from './api';
import type { List, Thread } from './types';

export const unreadTotal = signal(0);
/** Thread list as last fetched, for the Messages page. */
export const threads = signal<Thread[] | null>(null);

let timer: ReturnType<typeof setTimeout> | undefined;

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
