// Names for user ids (typing and presence carry only ids): filled from the
// authors of messages already loaded, else fetched once per id.

import { signal } from '@preact/signals';
import { api } from './api';
import { nameOf } from './format';
import type { Author, Profile } from './types';

const names = signal<ReadonlyMap<number, string>>(new Map());
const asked = new Set<number>();

export function remember(a: Author | Profile): void {
  const n = nameOf(a);
  if (names.value.get(a.id) === n) return;
  const m = new Map(names.value);
  m.set(a.id, n);
  names.value = m;
}

/** The user's name, or "someone" while it loads. */
export function userName(id: number): string {
  const n = names.value.get(id);
  if (n !== undefined) return n;
  if (!asked.has(id)) {
    asked.add(id);
    api<Profile>('/api/users/' + id)
      .then(remember)
      .catch(() => asked.delete(id));
  }
  return 'someone';
}
