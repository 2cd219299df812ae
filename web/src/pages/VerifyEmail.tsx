import { useEffect, useState } from 'preact/hooks';
import { api } from '../api';
import type { PageProps } from '../routes';
import { loadMe, me } from '../session';
import type { User } from '../types';

/** The page the verification mail links to: /verify-email?email=&token=. */
export default function VerifyEmail({ query }: PageProps) {
  const email = query.get('email') ?? '';
  const token = query.get('token') ?? '';
  const [state, setState] = useState<'working' | 'done' | 'failed'>('working');
  const [error, setError] = useState('');
  useEffect(() => {
    if (!email || !token) {
      setState('failed');
      setError('This link is incomplete. Open the link from the mail exactly as it is, or enter the code from the mail.');
      return;
    }
    api<User>('/api/auth/signup-verification', { method: 'POST', body: { email, code: token } })
      .then(() => {
        setState('done');
        if (me.value) void loadMe();
      })
      .catch((e: Error) => {
        setState('failed');
        setError(e.message);
      });
  }, [email, token]);
  return (
    <section class="page narrow">
      <h1>Verify your address</h1>
      {state === 'working' && <p aria-busy="true">Verifying {email}…</p>}
      {state === 'done' && (
        <div role="status">
          <p>Your address {email} is verified.</p>
          <p>{me.value ? <a href="/channels">Go to the channels</a> : <a href="/sign-in">Sign in</a>}</p>
        </div>
      )}
      {state === 'failed' && (
        <div>
          <p class="error" role="alert">
            {error}
          </p>
          <p>
            Signed in? Settings can send a new code. Otherwise <a href="/sign-in">sign in</a> first.
          </p>
        </div>
      )}
    </section>
  );
}
