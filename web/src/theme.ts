import { signal } from '@preact/signals';

// Light, dark, or whatever the system prefers (prefers-color-scheme); the
// choice is kept in localStorage and applied as <html data-theme>.
export type Theme = 'auto' | 'light' | 'dark';

const key = 'plaza.theme';

function stored(): Theme {
  const v = localStorage.getItem(key);
  return v === 'light' || v === 'dark' ? v : 'auto';
}

export const theme = signal<Theme>(stored());

export function applyTheme(t: Theme): void {
  theme.value = t;
  if (t === 'auto') {
    delete document.documentElement.dataset['theme'];
    localStorage.removeItem(key);
  } else {
    document.documentElement.dataset['theme'] = t;
    localStorage.setItem(key, t);
  }
}

export function nextTheme(t: Theme): Theme {
  return t === 'auto' ? 'light' : t === 'light' ? 'dark' : 'auto';
}
