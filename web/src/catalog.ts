// Pure rules of the catalog pages (the admin console's courses,
// achievements and collectibles, and the collectible shop): what admins
// type turned into what the API takes, and back; what a purchase's answer
// means in words. Unit-tested by npm test without a server.

import type { AchievementRule, Collectible } from './types';
import { duration } from './format';

/** "19.99" → 1999, "19" → 1900, "" → 0; undefined when it is not an amount (money is integer minor units: no floats). */
export function parseMoney(text: string): number | undefined {
  const m = /^(\d{1,9})(?:[.,](\d{1,2}))?$/.exec(text.trim() || '0');
  if (!m) return undefined;
  return Number(m[1]) * 100 + Number((m[2] ?? '').padEnd(2, '0'));
}

/** 1999 → "19.99", 1900 → "19.00", 0 → "0". */
export function moneyInput(cents: number): string {
  if (cents === 0) return '0';
  return `${Math.trunc(cents / 100)}.${String(cents % 100).padStart(2, '0')}`;
}

/**
 * A lesson's length as typed: "12:30" (m:ss), "1:02:05" (h:mm:ss) or whole
 * minutes ("12"); "" is 0. Seconds, or undefined when it is none of these.
 */
export function parseDuration(text: string): number | undefined {
  const t = text.trim();
  if (t === '') return 0;
  if (/^\d{1,4}$/.test(t)) return Number(t) * 60;
  const m = /^(?:(\d{1,3}):)?(\d{1,3}):(\d{2})$/.exec(t);
  if (!m) return undefined;
  const [h, min, s] = [Number(m[1] ?? 0), Number(m[2]), Number(m[3])];
  if (s > 59 || (m[1] !== undefined && min > 59)) return undefined;
  return h * 3600 + min * 60 + s;
}

/** Seconds as the duration field shows them: 0 → "", 330 → "5:30". */
export function durationInput(sec: number): string {
  return sec > 0 ? duration(sec) : '';
}

/** A whole number field where empty means null ("unlimited", "not for sale"); undefined when it is not a whole number. */
export function optionalCount(text: string): number | null | undefined {
  const t = text.trim();
  if (t === '') return null;
  return /^\d{1,12}$/.test(t) ? Number(t) : undefined;
}

/** A whole number field where empty means 0. */
export function count(text: string): number | undefined {
  const v = optionalCount(text);
  return v === null ? 0 : v;
}

/** "2026-12-24T20:00" (a datetime-local input, the browser's zone) → RFC 3339; "" stays "". */
export function localToRFC3339(v: string): string {
  if (!v) return '';
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? v : d.toISOString();
}

/** RFC 3339 → a datetime-local input's value in the browser's zone. */
export function rfc3339ToLocal(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

/** The kinds of achievement rules, as the API names them, with what they count (one, many). */
export const ruleKinds: { kind: AchievementRule['kind']; one: string; many: string }[] = [
  { kind: 'messages', one: 'channel message posted', many: 'channel messages posted' },
  { kind: 'shouts', one: 'shout posted', many: 'shouts posted' },
  { kind: 'streak', one: 'day in a row with a message or shout', many: 'days in a row with a message or shout' },
  { kind: 'courses', one: 'course completed', many: 'courses completed' },
  { kind: 'level', one: 'level reached', many: 'level reached' },
  { kind: 'mixes', one: 'mix published', many: 'mixes published' },
  { kind: 'events', one: 'event attended', many: 'events attended' },
];

export const rarities = ['common', 'uncommon', 'rare', 'epic', 'legendary'] as const;

/** What earns an achievement, in words. */
export function ruleText(rule: AchievementRule | null | undefined): string {
  if (!rule) return 'Granted by hand';
  if (rule.kind === 'level') return `Reach level ${rule.count}`;
  const k = ruleKinds.find((r) => r.kind === rule.kind);
  return `${rule.count.toLocaleString('en-US')} ${k ? (rule.count === 1 ? k.one : k.many) : rule.kind}`;
}

/** What is left of a collectible's supply, in words. */
export function supplyText(c: Pick<Collectible, 'supply' | 'remaining'>): string {
  if (c.supply === null) return 'Unlimited';
  const left = c.remaining ?? 0;
  if (left <= 0) return `Sold out (all ${c.supply.toLocaleString('en-US')} claimed)`;
  return `${left.toLocaleString('en-US')} of ${c.supply.toLocaleString('en-US')} left`;
}

/** Whether a collectible can still be bought at all. */
export function soldOut(c: Pick<Collectible, 'supply' | 'remaining'>): boolean {
  return c.supply !== null && (c.remaining ?? 0) <= 0;
}

/** "#1 of 2", or "#7" for an unlimited supply. */
export function serialText(serial: number, supply: number | null): string {
  return supply === null ? `#${serial}` : `#${serial} of ${supply}`;
}

/** What a refused purchase means for the buyer, from the error's status and code. */
export function purchaseRefusal(e: { status: number; code: string; message: string }, c: Pick<Collectible, 'name' | 'priceCredits' | 'supply'>, balance: number | null): string {
  const credits = (n: number) => `${n.toLocaleString('en-US')} ${n === 1 ? 'credit' : 'credits'}`;
  switch (e.code) {
    case 'insufficient_funds':
    case 'payment_required':
      return (
        `Not enough credits: ${c.name} costs ${c.priceCredits === null ? 'more' : credits(c.priceCredits)}` +
        (balance === null ? '' : ` and you have ${credits(balance)}`) +
        '. Nothing was charged.'
      );
    case 'sold_out':
      return `Sold out: ${c.supply === null ? 'none are' : `all ${c.supply.toLocaleString('en-US')} are`} taken. Nothing was charged.`;
    case 'already_owned':
      return `You hold ${c.name} already: one each. Nothing was charged.`;
    case 'verification_required':
      return 'Verify your email address first: unverified accounts cannot buy.';
  }
  if (e.status === 422) return `${c.name} is not for sale.`;
  return e.message;
}
