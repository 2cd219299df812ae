// A small history-API router: the route table lives in routes.ts, one page
// module per route, loaded when first shown.

import { signal } from '@preact/signals';

export interface Location {
  path: string;
  query: URLSearchParams;
}

function read(): Location {
  return { path: window.location.pathname, query: new URLSearchParams(window.location.search) };
}

export const location = signal<Location>(read());

export function navigate(to: string, opts: { replace?: boolean } = {}): void {
  if (to === window.location.pathname + window.location.search) return;
  if (opts.replace) history.replaceState(null, '', to);
  else history.pushState(null, '', to);
  location.value = read();
  window.scrollTo(0, 0);
}

/** The current path and query, for "come back here after signing in". */
export function here(): string {
  return window.location.pathname + window.location.search;
}

export function startRouter(): void {
  window.addEventListener('popstate', () => (location.value = read()));
  // Same-origin links navigate without reloading the page.
  document.addEventListener('click', (e) => {
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    const a = (e.target as Element | null)?.closest?.('a');
    if (!a || a.target || a.hasAttribute('download')) return;
    const href = a.getAttribute('href');
    if (!href || !href.startsWith('/') || href.startsWith('//') || href.startsWith('/api/') || href.startsWith('/uploads/')) return;
    e.preventDefault();
    navigate(href);
  });
}

/** Compiles "/channels/:id" into a matcher returning the params. */
export function compile(pattern: string): (path: string) => Record<string, string> | null {
  const names: string[] = [];
  const re = new RegExp(
    '^' +
      pattern.replace(/\/:([a-zA-Z]+)/g, (_, name: string) => {
        names.push(name);
        return '/([^/]+)';
      }) +
      '/?$',
  );
  return (path) => {
    const m = re.exec(path);
    if (!m) return null;
    const params: Record<string, string> = {};
    names.forEach((n, i) => (params[n] = decodeURIComponent(m[i + 1] ?? '')));
    return params;
  };
}
