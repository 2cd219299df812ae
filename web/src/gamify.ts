// Pure rules of the XP, leaderboard and wallet pages, kept apart so that
// they are unit-tested without a server (npm test).

/** Plaza's default level thresholds (PLAZA_LEVELS): level n starts at defaultLevels[n-1] XP. */
export const defaultLevels = [0, 5, 20, 65, 155, 515, 2015, 8015, 33015];

export interface Bar {
  /** XP where the current level started, and where the next one starts (null at the top). */
  from: number;
  to: number | null;
  /** 0..1 of the way through the level. */
  fraction: number;
}

/**
 * Where xp stands within its level. The server says the level and the next
 * level's threshold; the start of the level comes from the thresholds when
 * they agree with the server, else the bar starts at 0.
 */
export function xpBar(xp: number, level: number, nextLevelAt: number | null, levels: number[] = defaultLevels): Bar {
  let from = 0;
  const start = levels[level - 1];
  if (start !== undefined && start <= xp && (nextLevelAt === null || levels[level] === nextLevelAt || levels[level] === undefined)) from = start;
  if (nextLevelAt === null) return { from, to: null, fraction: 1 };
  const span = nextLevelAt - from;
  const fraction = span > 0 ? Math.min(1, Math.max(0, (xp - from) / span)) : 1;
  return { from, to: nextLevelAt, fraction };
}

export interface Ranked {
  rank: number;
  user: { id: number };
  xp: number;
}

/**
 * A live leaderboard.updated frame carries the top 10: it replaces the
 * rows of those ranks and leaves the rest of the page (further ranks) as
 * read, minus users who moved into the top.
 */
export function mergeTop<T extends Ranked>(items: T[], top: T[]): T[] {
  if (top.length === 0) return items;
  const last = Math.max(...top.map((t) => t.rank));
  const inTop = new Set(top.map((t) => t.user.id));
  const rest = items.filter((r) => r.rank > last && !inTop.has(r.user.id));
  return [...top].sort((a, b) => a.rank - b.rank).concat(rest);
}

/** The periods of the leaderboard, as the API names them. */
export const periods = [
  { id: '7d', label: 'Last 7 days' },
  { id: '30d', label: 'Last 30 days' },
  { id: 'all', label: 'All time' },
] as const;

/**
 * One Idempotency-Key per intended write: the same form submitted again
 * after a failure that may have reached the server (a network error, a
 * 5xx, a 429) reuses the key, so the server answers the first result
 * instead of paying twice; any change to what is sent, or a definite
 * answer, starts a new key.
 */
export class IntentKey {
  private key = '';
  private body = '';
  constructor(private readonly make: () => string) {}

  for(body: unknown): string {
    const b = JSON.stringify(body);
    if (!this.key || b !== this.body) {
      this.key = this.make();
      this.body = b;
    }
    return this.key;
  }

  /** The server gave a definite answer: the next write is a new intent. */
  settle(): void {
    this.key = '';
    this.body = '';
  }
}

/** Whether a failed write may be retried with the same key (the server may have applied it). */
export function uncertain(status: number): boolean {
  return status === 0 || status === 429 || status >= 500;
}

/** Whole credits to a text: 1200 → "1,200 credits". */
export function credits(n: number): string {
  return `${n.toLocaleString('en-US')} ${Math.abs(n) === 1 ? 'credit' : 'credits'}`;
}
