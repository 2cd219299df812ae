import { useState } from 'preact/hooks';
import { api } from '../api';
import { Field, FormError, Submit, submit, useAction } from '../components/Form';
import { navigate } from '../router';
import type { User } from '../types';

export default function SignUp() {
  const [email, setEmail] = useState('');
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [sentTo, setSentTo] = useState('');
  const [code, setCode] = useState('');
  const [verified, setVerified] = useState(false);

  const register = useAction(async () => {
    await api<User>('/api/auth/register', { method: 'POST', body: { email, username, password } });
    setSentTo(email);
  });
  const verify = useAction(async () => {
    await api<User>('/api/auth/signup-verification', { method: 'POST', body: { email: sentTo, code: code.trim() } });
    setVerified(true);
  });
  // A wrong or expired code says "request a new one": here is where.
  const [resent, setResent] = useState(false);
  const resend = useAction(async () => {
    setResent(false);
    await api('/api/auth/signup-verification/resend', { method: 'POST', body: { email: sentTo } });
    setResent(true);
    setCode('');
  });

  if (verified) {
    return (
      <section class="page narrow">
        <h1>Address verified</h1>
        <p>Welcome to Plaza, {username}.</p>
        <button type="button" onClick={() => navigate('/sign-in')}>
          Sign in
        </button>
      </section>
    );
  }
  if (sentTo) {
    return (
      <section class="page narrow">
        <h1>Check your mail</h1>
        <p>
          We sent a code and a link to <strong>{sentTo}</strong>. Open the link, or enter the code here.
        </p>
        <form onSubmit={submit(verify.run)} noValidate>
          <FormError text={verify.error} />
          <Field label="Verification code" name="code" value={code} onValue={setCode} inputMode="numeric" autocomplete="one-time-code" error={verify.fields['code']} />
          <div class="row wrap">
            <Submit busy={verify.busy}>Verify</Submit>
            <button type="button" class="secondary" onClick={() => void resend.run()} disabled={resend.busy}>
              Send a new code
            </button>
          </div>
          {resent && <p role="status">A new code is on its way to {sentTo}.</p>}
          <FormError text={resend.error} />
        </form>
        <p>
          You may also <a href="/sign-in">sign in</a> now and verify later: reading works before, posting after.
        </p>
      </section>
    );
  }
  return (
    <section class="page narrow">
      <h1>Create your account</h1>
      <form onSubmit={submit(register.run)} noValidate>
        <FormError text={register.error} />
        <Field label="Email" name="email" type="email" value={email} onValue={setEmail} autocomplete="email" required error={register.fields['email']} />
        <Field label="Username" name="username" value={username} onValue={setUsername} autocomplete="username" required hint="3 to 32 letters, digits or underscores." error={register.fields['username']} />
        <Field label="Password" name="password" type="password" value={password} onValue={setPassword} autocomplete="new-password" required hint="At least 8 characters, not containing your username or email." error={register.fields['password']} />
        <Submit busy={register.busy}>Sign up</Submit>
      </form>
      <p>
        Already a member? <a href="/sign-in">Sign in</a>
      </p>
    </section>
  );
}
