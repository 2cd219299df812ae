const timeFmt = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const dateFmt = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

/** Today: "14:05"; otherwise date and time. */
export function when(iso: string): string {
  const d = new Date(iso);
  const now = new Date();
  return d.toDateString() === now.toDateString() ? timeFmt.format(d) : dateFmt.format(d);
}

export function fullDate(iso: string): string {
  return dateFmt.format(new Date(iso));
}

export function nameOf(u: { displayName?: string; username: string }): string {
  return u.displayName?.trim() || u.username;
}
