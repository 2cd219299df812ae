// What the app says when the server refuses: Plaza's error codes and field
// problems in words a member understands. Pure rules, unit-tested by
// `npm test` (web/test/errors.test.ts).

/** The parts of an ApiError these rules read. */
export interface Refusal {
  status: number;
  code: string;
  message: string;
  fields: Record<string, string>;
}

/** The one sentence for 403 verification_required; FormError links its "Settings". */
export const verifyFirst = 'Verify your email to post: enter the code from your mail in Settings.';

/** A 503 whose code says only "try later": the rest (payments_disabled, ai_disabled) say why. */
export function transient503(code: string): boolean {
  return code === 'unavailable' || code === 'http_503';
}

/** Says what happened in words a member understands. */
export function friendly(status: number, code: string, message: string, retryAfter: number): string {
  const wait = retryAfter > 0 ? ` Try again in ${retryAfter} s.` : ' Try again shortly.';
  switch (true) {
    case status === 429:
      return 'Too many requests: Plaza asks you to slow down.' + wait;
    case code === 'overloaded':
      return 'Plaza is busy right now.' + wait;
    case status === 503 && transient503(code):
      return 'Plaza is unavailable for a moment.' + wait;
    case code === 'verification_required':
      return verifyFirst;
    case status >= 500 && status !== 503:
      return 'Something went wrong on the server. ' + message;
  }
  return capitalize(message);
}

/** Field problems as the API words them, worded for a form. */
const wordings: [RegExp, string][] = [
  [/^must be an RFC 3339 time\b.*$/, 'must be a date and time'],
  [/^(must be a whole number from 1 to \d+), or null for unlimited$/, '$1, or empty for no limit'],
];

/** A field problem in form wording ("must be an RFC 3339 time, e.g. …" → "must be a date and time"). */
export function fieldWording(problem: string): string {
  for (const [re, to] of wordings) if (re.test(problem)) return problem.replace(re, to);
  return problem;
}

export function formFields(fields: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, fieldWording(v)]));
}

/** Names of API fields as a member reads them at the start of a sentence. */
const fieldNames: Record<string, string> = { body: 'The message', id: 'This user' };

/** Problems that read as a predicate of the field: "is required", "must be …". */
const predicate = /^(is|are|must|has|have|needs?|should)\b/;

/** One field's problem as a sentence: "body", "is required" → "The message is required." */
export function fieldSentence(field: string, problem: string): string {
  const p = fieldWording(problem);
  if (!predicate.test(p)) return sentence(p);
  const name = fieldNames[field] ?? humanize(field);
  return sentence(name + ' ' + p);
}

/**
 * The line above a form after a refusal. A 422 says only "some fields are
 * invalid" beside its fields: when the form shows every field named, it
 * points at them; a field the form does not show (or a form with no
 * fields at all) gets its problem in the line itself, so the server's
 * reason is never dropped.
 */
export function formMessage(e: Refusal, shown: ReadonlySet<string>): string {
  const names = Object.keys(e.fields);
  if (e.status !== 422 || names.length === 0) return e.message;
  const hidden = names.filter((n) => !shown.has(n));
  const lines = hidden.map((n) => fieldSentence(n, e.fields[n] ?? ''));
  if (hidden.length < names.length) lines.unshift('Please check the fields marked below.');
  return lines.join(' ');
}

/** Client-side check of required fields, in the API's wording: the names of the empty ones → "is required". */
export function required(values: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(values)) if (!v.trim()) out[k] = 'is required';
  return out;
}

/** Characters as the server counts them (code points), not UTF-16 units. */
export function codePoints(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

function humanize(field: string): string {
  const last = field.split('.').pop() ?? field;
  const words = last.replace(/([a-z0-9])([A-Z])/g, '$1 $2').toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function sentence(s: string): string {
  const t = capitalize(s.trim());
  return !t || /[.!?…]$/.test(t) ? t : t + '.';
}
