import { signal } from '@preact/signals';

// One line at the top of every page for what is not about a single form:
// the server asks us to slow down, the session ended, a retry is on its way.
export interface Notice {
  kind: 'info' | 'error';
  text: string;
}

export const notice = signal<Notice | null>(null);

let timer: ReturnType<typeof setTimeout> | undefined;

/** Shows text; it goes away after ttl ms (0: stays until replaced). */
export function announce(text: string, kind: Notice['kind'] = 'info', ttl = 8000): void {
  notice.value = { kind, text };
  clearTimeout(timer);
  if (ttl > 0) timer = setTimeout(() => (notice.value = null), ttl);
}

export function dismissNotice(): void {
  clearTimeout(timer);
  notice.value = null;
}
