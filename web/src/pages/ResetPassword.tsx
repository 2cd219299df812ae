import { useState } from 'preact/hooks';
import { api } from '../api';
import { Field, FormError, Submit, submit, useAction } from '../components/Form';
import type { PageProps } from '../routes';

/** /reset-password asks for the address; /reset-password?token= sets the new password. */
export default function ResetPassword({ query }: PageProps) {
  const token = query.get('token');
  return token ? <Confirm token={token} /> : <Request />;
}

function Request() {
  const [email, setEmail] = useState('');
  const [sent, setSent] = useState(false);
  const act = useAction(async () => {
    await api('/api/auth/password-reset', { method: 'POST', body: { email } });
    setSent(true);
  });
  return (
    <section class="page narrow">
      <h1>Reset your password</h1>
      {sent ? (
        <p role="status">If {email} has an account, a link to choose a new password is on its way.</p>
      ) : (
        <form onSubmit={submit(act.run)} noValidate>
          <FormError text={act.error} />
          <Field label="Email" name="email" type="email" value={email} onValue={setEmail} autocomplete="email" required error={act.fields['email']} />
          <Submit busy={act.busy}>Send the link</Submit>
        </form>
      )}
    </section>
  );
}

function Confirm({ token }: { token: string }) {
  const [password, setPassword] = useState('');
  const [done, setDone] = useState(false);
  const act = useAction(async () => {
    await api('/api/auth/password-reset/confirm', { method: 'POST', body: { token, password } });
    setDone(true);
  });
  return (
    <section class="page narrow">
      <h1>Choose a new password</h1>
      {done ? (
        <p role="status">
          Your password is changed and every other session is signed out. <a href="/sign-in">Sign in</a>
        </p>
      ) : (
        <form onSubmit={submit(act.run)} noValidate>
          <FormError text={act.error} />
          <Field label="New password" name="password" type="password" value={password} onValue={setPassword} autocomplete="new-password" required hint="At least 8 characters, not containing your username or email." error={act.fields['password']} />
          <Submit busy={act.busy}>Change password</Submit>
        </form>
      )}
    </section>
  );
}
