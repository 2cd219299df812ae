import { useState } from 'preact/hooks';
import { ApiError } from '../api';

/** Runs a form's action, keeping its busy state and errors. */
export function useAction<A extends unknown[]>(fn: (...args: A) => Promise<void>) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const [fields, setFields] = useState<Record<string, string>>({});
  const run = async (...args: A) => {
    if (busy) return;
    setBusy(true);
    setError('');
    setFields({});
    try {
      await fn(...args);
    } catch (e) {
      if (e instanceof ApiError) {
        setFields(e.fields);
        // A 422 says only "invalid" beside its fields; a conflict (409) says why in its message.
        setError(Object.keys(e.fields).length && e.status === 422 ? 'Please check the fields marked below.' : e.message);
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

export function FormError({ text }: { text: string }) {
  if (!text) return null;
  return (
    <p class="error" role="alert">
      {text}
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
