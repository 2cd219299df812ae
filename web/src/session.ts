// Who is signed in. The session itself is the HttpOnly cookie; this module
// only knows the user it belongs to, starts and stops the WebSocket with
// it, and returns to sign-in (keeping drafts) when the server ends it.

import { computed, signal } from '@preact/signals';
import { api, ApiError, onUnauthorized } from './api';
import { clearAllDrafts } from './drafts';
import { announce } from './notice';
import { onSessionEnded, realtime } from './realtime';
import { here, navigate } from './router';
import type { Role, User } from './types';

export const me = signal<User | null>(null);
/** False until the first /api/users/me has answered. */
export const known = signal(false);

const rank: Record<Role, number> = { user: 1, creator: 2, moderator: 3, admin: 4 };

export type Access = 'anyone' | 'guest' | Role;

/** Whether the current user may see something that needs access. */
export function allowed(access: Access, u: User | null = me.value): boolean {
  if (access === 'anyone') return true;
  if (access === 'guest') return u === null;
  return u !== null && rank[u.role] >= rank[access];
}

export const isModerator = computed(() => allowed('moderator'));

// Whether this browser had a session, as a hint only: the session cookie
// is HttpOnly, so script cannot see it. A visitor who never signed in is
// not asked /api/users/me at all (it would only answer 401). Signing in
// sets the hint, a 401 or signing out clears it; it grants nothing.
const hintCookie = 'plaza_signed_in';

function hinted(): boolean {
  return document.cookie.split('; ').includes(hintCookie + '=1');
}

function hint(on: boolean): void {
  document.cookie = on ? `${hintCookie}=1; path=/; max-age=31536000; SameSite=Lax` : `${hintCookie}=; path=/; max-age=0; SameSite=Lax`;
}

export async function loadMe(): Promise<void> {
  if (!hinted()) {
    known.value = true;
    return;
  }
  try {
    setUser(await api<User>('/api/users/me'));
  } catch (e) {
    if (!(e instanceof ApiError && e.status === 401)) announce((e as Error).message, 'error');
    setUser(null);
  } finally {
    known.value = true;
  }
}

export function setUser(u: User | null): void {
  const before = me.value;
  me.value = u;
  hint(u !== null);
  if (u && !before) realtime.start();
  if (!u && before) realtime.stop();
}

export async function signOut(): Promise<void> {
  try {
    await api('/api/auth/logout', { method: 'POST' });
  } catch {
    // already gone: signing out is what we want anyway
  }
  clearAllDrafts();
  setUser(null);
  navigate('/sign-in');
}

const reasons: Record<string, string> = {
  logout: 'You signed out in another tab.',
  revoked: 'This session was signed out from another device.',
  password_reset: 'Your password was changed, so every session was signed out.',
  banned: 'Your account was suspended.',
  expired: 'Your session expired.',
};

/** The server ended the session: back to sign-in, drafts kept. */
export function sessionEnded(reason: string): void {
  if (!me.value) return;
  setUser(null);
  announce((reasons[reason] ?? 'Your session ended.') + ' Sign in again; what you typed is kept.', 'error', 0);
  const path = here();
  if (!path.startsWith('/sign-in')) navigate('/sign-in?next=' + encodeURIComponent(path), { replace: true });
}

onUnauthorized(() => sessionEnded('expired'));
onSessionEnded(sessionEnded, async () => {
  try {
    await api<User>('/api/users/me');
    return true;
  } catch (e) {
    return !(e instanceof ApiError && e.status === 401);
  }
});
