import { useEffect, useRef } from 'preact/hooks';
import { api } from '../api';
import { Avatar } from '../components/Avatar';
import { Show, useLoad } from '../components/Load';
import { nameOf, when } from '../format';
import { mergeTop, periods } from '../gamify';
import { realtime } from '../realtime';
import { navigate } from '../router';
import type { PageProps } from '../routes';
import { me } from '../session';
import type { Leaderboard as LB, Ranked } from '../types';

/** The XP leaderboard: 7 days, 30 days or all time; around me; live from the leaderboard room. */
export default function Leaderboard({ query }: PageProps) {
  const period = periods.some((p) => p.id === query.get('period')) ? (query.get('period') as string) : '7d';
  const around = query.get('around') === 'me' && me.value !== null;
  const q = new URLSearchParams({ period, limit: '50' });
  if (around) q.set('around', 'me');
  const { v, set, reload } = useLoad(() => api<LB>('/api/leaderboard?' + q.toString()), [period, around]);
  const go = (p: string, a: boolean) => navigate('/leaderboard?' + new URLSearchParams({ period: p, ...(a ? { around: 'me' } : {}) }).toString());
  const signedIn = me.value !== null;
  const data = v.state === 'ok' ? v.data : null;
  // The live handler merges into the board as last read, not as first read.
  const latest = useRef(data);
  latest.current = data;
  useEffect(() => {
    if (!signedIn || !data || around) return;
    // The board was just read: the first ready is the join. A later one
    // with refetch (back after a reconnect that could not replay, resync,
    // a gap) means updates were missed: read the board again.
    let joined = false;
    return realtime.subscribe('leaderboard', {
      ready: (info) => {
        if (joined && info.refetch) reload();
        joined = true;
      },
      event: (e) => {
        if (e.type !== 'leaderboard.updated') return;
        // The server sends the top of every period: {boards: {"7d": {items, updatedAt}, ...}}.
        type Top = { period?: string; items?: Ranked[]; updatedAt?: string };
        const all = e.data as Top & { boards?: Record<string, Top> };
        const d = all.boards ? all.boards[period] : all;
        if (!d || (d.period && d.period !== period)) return;
        const cur = latest.current;
        if (!d.items || !cur) return;
        set({ ...cur, items: mergeTop(cur.items, d.items), updatedAt: d.updatedAt ?? new Date().toISOString() });
      },
    });
  }, [signedIn, period, around, data !== null]);
  return (
    <section class="page narrow">
      <h1>Leaderboard</h1>
      <div class="filters">
        <div class="tabs" role="group" aria-label="Period">
          {periods.map((p) => (
            <button key={p.id} type="button" class={p.id === period ? 'small' : 'small secondary'} aria-pressed={p.id === period} onClick={() => go(p.id, around)}>
              {p.label}
            </button>
          ))}
        </div>
        {signedIn && (
          <label class="check">
            <input type="checkbox" checked={around} onChange={(e) => go(period, e.currentTarget.checked)} /> Around me
          </label>
        )}
      </div>
      <Show v={v} what="The leaderboard">
        {(lb) => (
          <>
            {lb.me && (
              <p class="card" data-testid="my-rank">
                You are <strong>#{lb.me.rank}</strong> with {lb.me.xp} XP.
              </p>
            )}
            <table class="leaderboard">
              <caption class="sr-only">Ranks for {periods.find((p) => p.id === period)?.label}</caption>
              <thead>
                <tr>
                  <th scope="col">Rank</th>
                  <th scope="col">Member</th>
                  <th scope="col">Level</th>
                  <th scope="col">XP</th>
                </tr>
              </thead>
              <tbody>
                {lb.items.map((r) => (
                  <tr key={r.user.id} class={me.value?.id === r.user.id ? 'me' : ''}>
                    <td>{r.rank}</td>
                    <td>
                      <a href={'/users/' + r.user.id} class="meta">
                        <Avatar user={r.user} size={24} /> {nameOf(r.user)}
                      </a>
                    </td>
                    <td>{r.user.level}</td>
                    <td>{r.xp}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            {lb.items.length === 0 && <p class="muted">No XP earned in this period yet.</p>}
            <p class="muted">Updated {when(lb.updatedAt)}</p>
          </>
        )}
      </Show>
    </section>
  );
}
