// Form controls beyond Form.tsx's text field, for the admin console's
// catalog pages: a labelled select, a checkbox, and the optional audit
// reason. Same conventions as Field: id "f-" + name, hint and error tied
// to the control for screen readers.

import { ApiError } from '../api';
import { Field } from './Form';

function describedBy(id: string, hint?: string, error?: string): string | undefined {
  return [hint ? id + '-hint' : '', error ? id + '-err' : ''].filter(Boolean).join(' ') || undefined;
}

function Notes({ id, hint, error }: { id: string; hint?: string | undefined; error?: string | undefined }) {
  return (
    <>
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
    </>
  );
}

interface SelectProps {
  label: string;
  name: string;
  value: string;
  onValue: (v: string) => void;
  options: { value: string; label: string }[];
  error?: string | undefined;
  hint?: string;
}

export function SelectField({ label, name, value, onValue, options, error, hint }: SelectProps) {
  const id = 'f-' + name;
  return (
    <div class="field">
      <label for={id}>{label}</label>
      <select
        id={id}
        name={name}
        value={value}
        aria-invalid={error ? true : undefined}
        aria-describedby={describedBy(id, hint, error)}
        onChange={(e) => onValue(e.currentTarget.value)}
      >
        {options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
      <Notes id={id} hint={hint} error={error} />
    </div>
  );
}

interface CheckProps {
  label: string;
  name: string;
  checked: boolean;
  onValue: (v: boolean) => void;
  error?: string | undefined;
  hint?: string;
}

export function CheckField({ label, name, checked, onValue, error, hint }: CheckProps) {
  const id = 'f-' + name;
  return (
    <div class="field">
      <label class="check" for={id}>
        <input
          id={id}
          name={name}
          type="checkbox"
          checked={checked}
          aria-invalid={error ? true : undefined}
          aria-describedby={describedBy(id, hint, error)}
          onChange={(e) => onValue(e.currentTarget.checked)}
        />{' '}
        {label}
      </label>
      <Notes id={id} hint={hint} error={error} />
    </div>
  );
}

/** The optional "why" an admin action records in the audit log (at most 500 characters). */
export function ReasonField({ name, value, onValue, error }: { name: string; value: string; onValue: (v: string) => void; error?: string | undefined }) {
  return <Field label="Reason for the audit log (optional)" name={name} value={value} onValue={onValue} maxLength={500} error={error} />;
}

/** The audit reason as the API takes it: absent when empty. */
export function withReason<T extends object>(body: T, reason: string): T & { reason?: string } {
  return reason.trim() ? { ...body, reason: reason.trim() } : body;
}

/** A refusal found before sending (a field that cannot be what the API takes), shown like the server's 422. */
export function invalid(fields: Record<string, string>): ApiError {
  return new ApiError(422, 'validation_failed', 'Please check the fields marked below.', fields);
}
