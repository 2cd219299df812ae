import type { ComponentType } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { Shell } from './components/Shell';
import { location, navigate } from './router';
import { resolve, type PageProps, type Route } from './routes';
import { allowed, known, me, type Access } from './session';

const loaded = new Map<Route, ComponentType<PageProps>>();

/** Shows the page for the current location, loading its module once. */
export function App() {
  const loc = location.value;
  const { route, params } = resolve(loc.path);
  const [, setTick] = useState(0);
  const [failed, setFailed] = useState('');
  const main = useRef<HTMLElement>(null);
  const Page = loaded.get(route);

  useEffect(() => {
    if (loaded.has(route)) return;
    setFailed('');
    route
      .load()
      .then((m) => {
        loaded.set(route, m.default);
        setTick((n) => n + 1);
      })
      .catch(() => setFailed('This page could not be loaded. Plaza may have been updated: reload the page.'));
  }, [route]);

  // A signed-out visitor on a members' page goes to sign-in and comes back.
  const mustSignIn = known.value && !me.value && route.access !== 'anyone' && route.access !== 'guest';
  useEffect(() => {
    if (mustSignIn) navigate('/sign-in?next=' + encodeURIComponent(loc.path + (loc.query.size ? '?' + loc.query : '')), { replace: true });
  }, [mustSignIn]);

  // Each navigation names the page and puts the keyboard at its start.
  useEffect(() => {
    document.title = route.title === 'Plaza' ? 'Plaza' : route.title + ' · Plaza';
    main.current?.focus({ preventScroll: true });
  }, [loc.path]);

  let content;
  if (failed) content = <p class="error" role="alert">{failed}</p>;
  else if (!known.value || !Page || mustSignIn) content = <p class="muted" aria-busy="true">Loading…</p>;
  else if (!allowed(route.access)) content = <Forbidden access={route.access} />;
  else content = <Page key={loc.path} params={params} query={loc.query} />;

  return (
    <Shell>
      <main id="main" ref={main} tabIndex={-1}>
        {content}
      </main>
    </Shell>
  );
}

/** Who a page is for, by the least role that may see it. */
const forWhom: Partial<Record<Access, string>> = {
  user: 'members who are signed in',
  creator: 'creators (and moderators and administrators)',
  moderator: 'moderators and administrators',
  admin: 'administrators',
  guest: 'visitors who are not signed in',
};

function Forbidden({ access }: { access: Access }) {
  return (
    <section class="page narrow">
      <h1>Not for your role</h1>
      <p>This page is for {forWhom[access] ?? 'another role'}.</p>
      <p>
        <a href="/channels">Back to the channels</a>
      </p>
    </section>
  );
}
