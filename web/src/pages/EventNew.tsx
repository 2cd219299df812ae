import { useState } from 'preact/hooks';
import { api } from '../api';
import { optionalCount } from '../catalog';
import { invalid } from '../components/Fields';
import { Field, FormError, Submit, submit, useAction } from '../components/Form';
import { required } from '../errors';
import { navigate } from '../router';
import type { Event } from '../types';

/** "2026-12-24T20:00" (the input's local time) → RFC 3339, or "" when empty. */
export function localToRFC3339(v: string): string {
  if (!v) return '';
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? v : d.toISOString();
}

/** The creator's form for a new event. */
export default function EventNew() {
  const [title, setTitle] = useState('');
  const [description, setDescription] = useState('');
  const [location, setLocation] = useState('');
  const [streamUrl, setStreamUrl] = useState('');
  const [startsAt, setStartsAt] = useState('');
  const [endsAt, setEndsAt] = useState('');
  const [capacity, setCapacity] = useState('');
  const create = useAction(async () => {
    // Checked here in the form's words; the server would say "must be an
    // RFC 3339 time" of an empty date, and NaN would go out as null.
    const bad = required({ title, startsAt, endsAt });
    const cap = optionalCount(capacity);
    if (cap === undefined || cap === 0) bad['capacity'] = 'must be a whole number from 1 up, or empty for no limit';
    if (Object.keys(bad).length) throw invalid(bad);
    const e = await api<Event>('/api/events', {
      method: 'POST',
      body: { title, description, location, streamUrl, startsAt: localToRFC3339(startsAt), endsAt: localToRFC3339(endsAt), capacity: cap },
    });
    navigate('/events/' + e.id);
  });
  const f = create.fields;
  return (
    <section class="page narrow">
      <h1>Create an event</h1>
      <form onSubmit={submit(create.run)} noValidate>
        <FormError text={create.error} />
        <Field label="Title" name="title" value={title} onValue={setTitle} required maxLength={200} error={f['title']} />
        <Field label="Description" name="description" multiline value={description} onValue={setDescription} error={f['description']} />
        <DateTime label="Starts" name="startsAt" value={startsAt} onValue={setStartsAt} error={f['startsAt']} />
        <DateTime label="Ends" name="endsAt" value={endsAt} onValue={setEndsAt} error={f['endsAt']} />
        <Field label="Location" name="location" value={location} onValue={setLocation} error={f['location']} />
        <Field label="Stream link (optional)" name="streamUrl" value={streamUrl} onValue={setStreamUrl} error={f['streamUrl']} />
        <Field label="Capacity (empty: no limit)" name="capacity" inputMode="numeric" value={capacity} onValue={setCapacity} error={f['capacity']} />
        <Submit busy={create.busy}>Create event</Submit>
      </form>
    </section>
  );
}

function DateTime({ label, name, value, onValue, error }: { label: string; name: string; value: string; onValue: (v: string) => void; error?: string | undefined }) {
  const id = 'f-' + name;
  return (
    <div class="field">
      <label for={id}>{label}</label>
      <input id={id} name={name} type="datetime-local" value={value} required aria-invalid={error ? true : undefined} aria-describedby={error ? id + '-err' : undefined} onInput={(e) => onValue(e.currentTarget.value)} />
      {error && (
        <small id={id + '-err'} class="error">
          {error}
        </small>
      )}
    </div>
  );
}
