import { useState } from 'preact/hooks';
import { api, ApiError } from '../api';
import { Field, FormError, Submit, submit, useAction } from '../components/Form';
import { dismissNotice } from '../notice';
import { navigate } from '../router';
import type { PageProps } from '../routes';
import { setUser } from '../session';
import type { User } from '../types';

/** Where to go after signing in: only paths of this site. */
export function safeNext(q: URLSearchParams): string {
  const n = q.get('next') ?? '';
  return n.startsWith('/') && !n.startsWith('//') && !n.startsWith('/sign-') ? n : '/channels';
}

export default function SignIn({ query }: PageProps) {
  const [login, setLogin] = useState('');
  const [password, setPassword] = useState('');
  const [code, setCode] = useState('');
  const [needCode, setNeedCode] = useState(false);
  const act = useAction(async () => {
    try {
      const body: Record<string, string> = { login, password };
      if (needCode) body['mfaCode'] = code.replace(/\s/g, '');
      // The session is the cookie this sets; the token in the body is not kept.
      const res = await api<{ user: User }>('/api/auth/login', { method: 'POST', body });
      dismissNotice();
      setUser(res.user);
      navigate(safeNext(query), { replace: true });
    } catch (e) {
      if (e instanceof ApiError && e.code === 'mfa_required') {
        setNeedCode(true);
        return;
      }
      throw e;
    }
  });
  return (
    <section class="page narrow">
      <h1>Sign in</h1>
      <form onSubmit={submit(act.run)} noValidate>
        <FormError text={act.error} />
        {!needCode ? (
          <>
            <Field label="Username or email" name="login" value={login} onValue={setLogin} autocomplete="username" required error={act.fields['login']} />
            <Field label="Password" name="password" type="password" value={password} onValue={setPassword} autocomplete="current-password" required error={act.fields['password']} />
          </>
        ) : (
          <>
            <p>Your account has two-factor sign-in. Enter the 6-digit code from your authenticator app, or a recovery code.</p>
            <Field label="Authentication code" name="mfaCode" value={code} onValue={setCode} autocomplete="one-time-code" inputMode="numeric" required autoFocus error={act.fields['mfaCode']} />
          </>
        )}
        <Submit busy={act.busy}>{needCode ? 'Verify' : 'Sign in'}</Submit>
      </form>
      <p>
        <a href="/reset-password">Forgot your password?</a>
      </p>
      <p>
        New here? <a href="/sign-up">Create an account</a>
      </p>
    </section>
  );
}
