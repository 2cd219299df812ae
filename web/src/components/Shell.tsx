import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { refreshThreads, resetThreads } from '../dms';
import { dismissNotice, notice } from '../notice';
import { realtime } from '../realtime';
import { location } from '../router';
import { nav } from '../routes';
import { allowed, me, signOut } from '../session';
import { applyTheme, nextTheme, theme } from '../theme';
import { nameOf } from '../format';

/** The frame of every page: skip link, header with navigation, notices. */
export function Shell({ children }: { children: ComponentChildren }) {
  const u = me.value;
  const path = location.value.path;
  useUserRoom(u?.id ?? null);
  return (
    <>
      <a class="skip" href="#main" onClick={skipToMain}>
        Skip to content
      </a>
      <header class="top">
        <a class="brand" href="/" aria-label="Plaza home">
          Plaza
        </a>
        <nav aria-label="Main">
          <ul>
            {nav
              .filter((n) => allowed(n.access, u))
              .map((n) => {
                const count = n.badge?.() ?? 0;
                const current = path === n.href || path.startsWith(n.href + '/');
                return (
                  <li key={n.href}>
                    <a href={n.href} aria-current={current ? 'page' : undefined}>
                      {n.label}
                      {count > 0 && (
                        <span class="badge" aria-label={`${count} unread`}>
                          {count}
                        </span>
                      )}
                    </a>
                  </li>
                );
              })}
          </ul>
        </nav>
        <div class="account">
          <ThemeToggle />
          {u ? (
            <>
              <a href="/settings" class="who" aria-current={path === '/settings' ? 'page' : undefined}>
                {nameOf(u)}
              </a>
              <button type="button" class="link" onClick={() => void signOut()}>
                Sign out
              </button>
            </>
          ) : (
            <>
              <a href="/sign-in">Sign in</a>
              <a href="/sign-up" class="button small">
                Sign up
              </a>
            </>
          )}
        </div>
      </header>
      <Connection />
      {notice.value && (
        <div class={'notice ' + notice.value.kind} role={notice.value.kind === 'error' ? 'alert' : 'status'}>
          <span>{notice.value.text}</span>
          <button type="button" class="link" onClick={dismissNotice} aria-label="Dismiss">
            ×
          </button>
        </div>
      )}
      {children}
    </>
  );
}

function skipToMain(e: Event) {
  e.preventDefault();
  document.getElementById('main')?.focus();
}

function ThemeToggle() {
  const t = theme.value;
  const label = t === 'auto' ? 'Theme: system' : t === 'light' ? 'Theme: light' : 'Theme: dark';
  return (
    <button type="button" class="link theme" onClick={() => applyTheme(nextTheme(t))} title="Change theme">
      {label}
    </button>
  );
}

/** "Reconnecting…" while the WebSocket is down after it was up. */
function Connection() {
  const s = realtime.status.value;
  const [, tick] = useState(0);
  useEffect(() => {
    if (s !== 'reconnecting') return;
    const t = setInterval(() => tick((n) => n + 1), 1000);
    return () => clearInterval(t);
  }, [s]);
  if (s !== 'reconnecting') return null;
  const secs = Math.max(0, Math.ceil((realtime.retryAt.value - Date.now()) / 1000));
  return (
    <div class="notice warn" role="status" data-testid="reconnecting">
      <span>
        Reconnecting to live updates{secs > 0 ? ` in ${secs} s` : '…'} Messages sent meanwhile will appear when it is back.
      </span>
      <button type="button" class="link" onClick={() => realtime.connectNow()}>
        Retry now
      </button>
    </div>
  );
}

/** The user's own room: DMs update the unread badge. */
function useUserRoom(id: number | null) {
  useEffect(() => {
    if (id === null) {
      resetThreads();
      return;
    }
    refreshThreads(0);
    return realtime.subscribe('user:' + id, {
      event: (e) => {
        if (e.type === 'dm.received') refreshThreads();
      },
      ready: (info) => info.refetch && refreshThreads(),
    });
  }, [id]);
}
