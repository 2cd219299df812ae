import { useEffect, useState } from 'preact/hooks';
import { api } from '../api';
import { Avatar } from '../components/Avatar';
import { Field, FormError, Submit, submit, useAction } from '../components/Form';
import { QRCode } from '../components/QRCode';
import { fullDate } from '../format';
import { realtime } from '../realtime';
import { navigate } from '../router';
import { me, setUser } from '../session';
import type { Session, User } from '../types';

export default function Settings() {
  const u = me.value;
  if (!u) return null;
  return (
    <section class="page narrow settings">
      <h1>Settings</h1>
      <ProfileForm u={u} />
      {!u.emailVerified && <Verification u={u} />}
      <MFA u={u} />
      <Sessions u={u} />
    </section>
  );
}

function update(u: User) {
  me.value = u;
}

function ProfileForm({ u }: { u: User }) {
  const [displayName, setDisplayName] = useState(u.displayName);
  const [bio, setBio] = useState(u.bio);
  const [saved, setSaved] = useState(false);
  const save = useAction(async () => {
    setSaved(false);
    update(await api<User>('/api/users/me', { method: 'PATCH', body: { displayName, bio } }));
    setSaved(true);
  });
  const upload = useAction(async (file: File) => {
    const form = new FormData();
    form.append('file', file);
    const asset = await api<{ url: string; path: string }>('/api/uploads', { method: 'POST', form });
    update(await api<User>('/api/users/me', { method: 'PATCH', body: { avatarUrl: asset.path } }));
  });
  return (
    <section aria-labelledby="profile-h">
      <h2 id="profile-h">Profile</h2>
      <div class="avatar-row">
        <Avatar user={u} size={72} />
        <div class="field">
          <label for="avatar">Picture (PNG, JPEG, GIF or WebP)</label>
          <input
            id="avatar"
            type="file"
            accept="image/png,image/jpeg,image/gif,image/webp"
            disabled={upload.busy}
            onChange={(e) => {
              const f = e.currentTarget.files?.[0];
              if (f) void upload.run(f);
            }}
          />
          {upload.busy && <small class="muted">Uploading…</small>}
          <FormError text={upload.error} />
        </div>
      </div>
      <form onSubmit={submit(save.run)} noValidate>
        <FormError text={save.error} />
        <Field label="Display name" name="displayName" value={displayName} onValue={setDisplayName} maxLength={64} error={save.fields['displayName']} />
        <Field label="About you" name="bio" multiline value={bio} onValue={setBio} maxLength={500} error={save.fields['bio']} />
        <Submit busy={save.busy}>Save profile</Submit>
        {saved && <span role="status"> Saved.</span>}
      </form>
      <p class="muted">
        Signed in as @{u.username} ({u.email}) · level {u.level}, {u.xp} XP · <a href={'/users/' + u.id}>public profile</a>
      </p>
    </section>
  );
}

function Verification({ u }: { u: User }) {
  const [code, setCode] = useState('');
  const [sent, setSent] = useState(false);
  const verify = useAction(async () => {
    await api('/api/auth/signup-verification', { method: 'POST', body: { email: u.email, code: code.trim() } });
    update({ ...u, emailVerified: true });
  });
  const resend = useAction(async () => {
    await api('/api/auth/signup-verification/resend', { method: 'POST', body: { email: u.email } });
    setSent(true);
  });
  return (
    <section aria-labelledby="verify-h">
      <h2 id="verify-h">Verify your address</h2>
      <p>Until {u.email} is verified you can read but not post.</p>
      <form onSubmit={submit(verify.run)} noValidate>
        <FormError text={verify.error} />
        <Field label="Code from the mail" name="verifyCode" value={code} onValue={setCode} inputMode="numeric" autocomplete="one-time-code" />
        <Submit busy={verify.busy}>Verify</Submit>{' '}
        <button type="button" class="secondary" onClick={() => void resend.run()} disabled={resend.busy}>
          Send a new code
        </button>
        {sent && <span role="status"> Sent.</span>}
        <FormError text={resend.error} />
      </form>
    </section>
  );
}

interface Setup {
  secret: string;
  otpauthUrl: string;
}

function MFA({ u }: { u: User }) {
  const [setup, setSetup] = useState<Setup | null>(null);
  const [code, setCode] = useState('');
  const [recovery, setRecovery] = useState<string[] | null>(null);
  const start = useAction(async () => setSetup(await api<Setup>('/api/auth/mfa/setup', { method: 'POST' })));
  const enable = useAction(async () => {
    const r = await api<{ recoveryCodes: string[] }>('/api/auth/mfa/enable', { method: 'POST', body: { code: code.replace(/\s/g, '') } });
    setRecovery(r.recoveryCodes);
    setSetup(null);
    setCode('');
    update({ ...u, mfaEnabled: true });
  });
  const disable = useAction(async () => {
    await api('/api/auth/mfa/disable', { method: 'POST', body: { code: code.replace(/\s/g, '') } });
    setCode('');
    setRecovery(null);
    update({ ...u, mfaEnabled: false });
  });
  return (
    <section aria-labelledby="mfa-h">
      <h2 id="mfa-h">Two-factor sign-in</h2>
      {recovery && (
        <div class="recovery" role="status">
          <p>
            <strong>Two-factor sign-in is on.</strong> Keep these recovery codes somewhere safe: each one signs you in once if you lose your
            authenticator.
          </p>
          <ul class="codes" data-testid="recovery-codes">
            {recovery.map((c) => (
              <li key={c}>
                <code>{c}</code>
              </li>
            ))}
          </ul>
        </div>
      )}
      {u.mfaEnabled && !recovery && <p>Two-factor sign-in is on.</p>}
      {u.mfaEnabled ? (
        <form onSubmit={submit(disable.run)} noValidate>
          <FormError text={disable.error} />
          <Field label="Code to turn it off" name="disableCode" value={code} onValue={setCode} inputMode="numeric" autocomplete="one-time-code" />
          <Submit busy={disable.busy}>Turn off two-factor sign-in</Submit>
        </form>
      ) : setup ? (
        <form onSubmit={submit(enable.run)} noValidate>
          <p>Scan this code with an authenticator app, then enter the 6-digit code it shows.</p>
          <QRCode text={setup.otpauthUrl} label="QR code for your authenticator app" />
          <p>
            Or enter this key by hand: <code class="secret" data-testid="mfa-secret">{setup.secret}</code>
          </p>
          <FormError text={enable.error} />
          <Field label="Code from the app" name="enableCode" value={code} onValue={setCode} inputMode="numeric" autocomplete="one-time-code" />
          <Submit busy={enable.busy}>Turn on</Submit>
        </form>
      ) : (
        <>
          <p>Ask for a code from an authenticator app each time you sign in.</p>
          <FormError text={start.error} />
          <button type="button" onClick={() => void start.run()} disabled={start.busy}>
            Set up two-factor sign-in
          </button>
        </>
      )}
    </section>
  );
}

function Sessions({ u }: { u: User }) {
  const [list, setList] = useState<Session[] | null>(null);
  const [error, setError] = useState('');
  const load = () =>
    api<{ items: Session[] }>('/api/auth/sessions')
      .then((l) => setList(l.items))
      .catch((e: Error) => setError(e.message));
  useEffect(() => {
    void load();
    // Another device signed a session out: show the list as it is now.
    return realtime.subscribe('user:' + u.id, { event: (e) => e.type === 'session.revoked' && void load() });
  }, [u.id]);
  const revoke = async (s: Session) => {
    try {
      await api('/api/auth/sessions/' + s.id, { method: 'DELETE' });
      if (s.current) {
        setUser(null);
        navigate('/sign-in');
        return;
      }
      void load();
    } catch (e) {
      setError((e as Error).message);
    }
  };
  return (
    <section aria-labelledby="sessions-h">
      <h2 id="sessions-h">Where you are signed in</h2>
      {error && <p class="error">{error}</p>}
      <ul class="sessions">
        {list?.map((s) => (
          <li key={s.id} class="card">
            <div>
              <strong>{describe(s.userAgent)}</strong> {s.current && <span class="tag">this browser</span>}
              <div class="muted">
                {s.ip} · signed in {fullDate(s.createdAt)} · last seen {fullDate(s.lastSeenAt)}
              </div>
            </div>
            <button type="button" class="small secondary" onClick={() => void revoke(s)}>
              {s.current ? 'Sign out' : 'Sign out this session'}
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}

function describe(ua: string): string {
  if (!ua) return 'Unknown device';
  const browser = /Firefox\//.test(ua) ? 'Firefox' : /Edg\//.test(ua) ? 'Edge' : /Chrom(e|ium)\//.test(ua) ? 'Chrome' : /Safari\//.test(ua) ? 'Safari' : '';
  const os = /Android/.test(ua) ? 'Android' : /iPhone|iPad/.test(ua) ? 'iOS' : /Windows/.test(ua) ? 'Windows' : /Mac OS X/.test(ua) ? 'macOS' : /Linux/.test(ua) ? 'Linux' : '';
  return [browser, os].filter(Boolean).join(' on ') || ua.slice(0, 60);
}
