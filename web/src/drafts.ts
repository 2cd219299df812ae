// What a member is typing, kept in localStorage per conversation, so a
// session that ends (or a reload) does not lose it. Signing out on purpose
// clears every draft.

const prefix = 'plaza.draft.';

export function getDraft(key: string): string {
  return localStorage.getItem(prefix + key) ?? '';
}

export function setDraft(key: string, text: string): void {
  if (text.trim() === '') localStorage.removeItem(prefix + key);
  else localStorage.setItem(prefix + key, text);
}

export function clearDraft(key: string): void {
  localStorage.removeItem(prefix + key);
}

export function clearAllDrafts(): void {
  for (let i = localStorage.length - 1; i >= 0; i--) {
    const k = localStorage.key(i);
    if (k?.startsWith(prefix)) localStorage.removeItem(k);
  }
}
