import { useCallback, useEffect, useState } from 'preact/hooks';
import { missingAPI } from '../api';

/** What a page knows of one read: loading, the data, an API this server lacks, or an error. */
export type Loaded<T> = { state: 'loading' } | { state: 'ok'; data: T } | { state: 'missing' } | { state: 'error'; message: string };

/** Reads fn when deps change; set replaces the data after a write, reload reads again. */
export function useLoad<T>(fn: () => Promise<T>, deps: unknown[]) {
  const [v, setV] = useState<Loaded<T>>({ state: 'loading' });
  const [n, setN] = useState(0);
  useEffect(() => {
    let live = true;
    fn().then(
      (data) => live && setV({ state: 'ok', data }),
      (e: unknown) => live && setV(missingAPI(e) ? { state: 'missing' } : { state: 'error', message: (e as Error).message }),
    );
    return () => {
      live = false;
    };
  }, [...deps, n]);
  const set = useCallback((data: T) => setV({ state: 'ok', data }), []);
  const reload = useCallback(() => setN((x) => x + 1), []);
  return { v, set, reload };
}

/** The clear state of a page whose API this server does not have. */
export function Unavailable({ what }: { what: string }) {
  return (
    <p class="card unavailable" role="status" data-testid="unavailable">
      {what} is not available on this server: its API is not there (the server answered 404). It appears when the server is
      updated.
    </p>
  );
}

/** Loading, missing and error states; children only with the data. */
export function Show<T>({ v, what, children }: { v: Loaded<T>; what: string; children: (data: T) => preact.ComponentChildren }) {
  switch (v.state) {
    case 'loading':
      return (
        <p class="muted" aria-busy="true">
          Loading…
        </p>
      );
    case 'missing':
      return <Unavailable what={what} />;
    case 'error':
      return (
        <p class="error" role="alert">
          {v.message}
        </p>
      );
    case 'ok':
      return <>{children(v.data)}</>;
  }
}
