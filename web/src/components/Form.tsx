import { useMemo, useRef, useState } from 'preact/hooks';
import { ApiError } from '../api';
import { formFields, formMessage, verifyFirst } from '../errors';

/**
 * Runs a form's action, keeping its busy state and errors.
 *
 * The form reads its field errors from fields (fields['title']); every name
 * it reads, on any render, counts as shown at its input. A 422 naming a
 * field the form never reads (or a form with no field errors at all) says
 * that field's problem in error instead, so no reason of the server's is
 * dropped.
 */
export function useAction<A extends unknown[]>(fn: (...args: A) => Promise<void>) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const [raw, setFields] = useState<Record<string, string>>({});
  const shown = useRef(new Set<string>());
  const fields = useMemo(
    () =>
      new Proxy(raw, {
        get(t, k) {
          if (typeof k === 'string') shown.current.add(k);
          return t[k as string];
        },
      }),
    [raw],
  );
  const run = async (...args: A) => {
    if (busy) return;
    setBusy(true);
    setError('');
    setFields({});
    try {
      await fn(...args);
    } catch (e) {
      if (e instanceof ApiError) {
        const f = formFields(e.fields);
        setFields(f);
        // A 422 says only "invalid" beside its fields; a conflict (409) says why in its message.
        setError(formMessage({ status: e.status, code: e.code, message: e.message, fields: f }, shown.current));
      } else {
        setError((e as Error).message || 'Something went wrong.');
      }
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, fields, run, setError };
}

/** onSubmit handler that runs the action instead of posting the page. */
export function submit(run: () => Promise<void>) {
  return (e: Event) => {
    e.preventDefault();
    void run();
  };
}

interface InputProps {
  label: string;
  name: string;
  value: string;
  onValue: (v: string) => void;
  error?: string | undefined;
  hint?: string;
  type?: 'text' | 'email' | 'password';
  autocomplete?: string;
  inputMode?: 'numeric' | 'text';
  required?: boolean;
  autoFocus?: boolean;
  maxLength?: number;
  multiline?: boolean;
}

/** A labelled input with its hint and error tied to it for screen readers. */
export function Field({ label, name, value, onValue, error, hint, multiline, type = 'text', autocomplete, inputMode, required, autoFocus, maxLength }: InputProps) {
  const id = 'f-' + name;
  const described = [hint ? id + '-hint' : '', error ? id + '-err' : ''].filter(Boolean).join(' ') || undefined;
  const common = {
    id,
    name,
    value,
    maxLength,
    required,
    autoFocus,
    'aria-invalid': error ? true : undefined,
    'aria-describedby': described,
    onInput: (e: Event) => onValue((e.currentTarget as HTMLInputElement).value),
  };
  return (
    <div class="field">
      <label for={id}>{label}</label>
      {multiline ? (
        <textarea {...common} rows={4} />
      ) : type === 'password' ? (
        <input {...common} type="password" autocomplete={autocomplete} />
      ) : type === 'email' ? (
        <input {...common} type="email" autocomplete={autocomplete} />
      ) : (
        <input {...common} type="text" autocomplete={autocomplete} inputMode={inputMode} />
      )}
      {hint && (
        <small id={id + '-hint'} class="muted">
          {hint}
        </small>
      )}
      {error && (
        <small id={id + '-err'} class="error">
          {error}
        </small>
      )}
    </div>
  );
}

/** An error in words; "verify your email" links to Settings, where the code is entered. */
export function ErrorText({ text }: { text: string }) {
  if (text !== verifyFirst) return <>{text}</>;
  const at = text.lastIndexOf('Settings');
  return (
    <>
      {text.slice(0, at)}
      <a href="/settings">Settings</a>
      {text.slice(at + 'Settings'.length)}
    </>
  );
}

export function FormError({ text }: { text: string }) {
  if (!text) return null;
  return (
    <p class="error" role="alert">
      <ErrorText text={text} />
    </p>
  );
}

export function Submit({ busy, children }: { busy: boolean; children: string }) {
  return (
    <button type="submit" disabled={busy} aria-busy={busy || undefined}>
      {busy ? children + '…' : children}
    </button>
  );
}
