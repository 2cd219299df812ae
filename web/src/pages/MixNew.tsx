import { useState } from 'preact/hooks';
import { api } from '../api';
import { Field, FormError, Submit, submit, useAction } from '../components/Form';
import { UploadField, type Uploaded } from '../components/Upload';
import { duration } from '../format';
import { genres as allGenres } from '../music';
import { navigate } from '../router';
import type { Mix } from '../types';

const noAudio = 'Upload the audio file first.';

/** The creator's form: upload the audio and a cover, then publish. */
export default function MixNew() {
  const [title, setTitle] = useState('');
  const [picked, setPicked] = useState<string[]>([]);
  const [audio, setAudio] = useState<Uploaded | null>(null);
  const [cover, setCover] = useState<Uploaded | null>(null);
  const [secs, setSecs] = useState(0);
  const publish = useAction(async () => {
    if (!audio) throw new Error(noAudio);
    const m = await api<Mix>('/api/mixes', {
      method: 'POST',
      body: { title, genres: picked, durationSec: secs, audioUrl: audio.url, coverUrl: cover?.url ?? '' },
    });
    navigate('/mixes/' + m.id);
  });
  const gotAudio = (u: Uploaded | null) => {
    setAudio(u);
    setSecs(0);
    if (!u) return;
    // That error is answered now.
    if (publish.error === noAudio) publish.setError('');
    // The stored file is on this site: its length comes from its metadata.
    const a = new Audio();
    a.preload = 'metadata';
    a.onloadedmetadata = () => Number.isFinite(a.duration) && setSecs(Math.max(1, Math.round(a.duration)));
    a.src = u.url;
  };
  return (
    <section class="page narrow">
      <h1>Publish a mix</h1>
      <form onSubmit={submit(publish.run)} noValidate>
        <FormError text={publish.error} />
        <Field label="Title" name="title" value={title} onValue={setTitle} required maxLength={200} error={publish.fields['title']} />
        <UploadField id="mix-audio" label="Audio (MP3, WAV, OGG, FLAC, M4A)" accept="audio/*" onDone={gotAudio} />
        {publish.fields['audioUrl'] && <small class="error">{publish.fields['audioUrl']}</small>}
        <p class="muted" data-testid="mix-duration">
          Length: {secs > 0 ? duration(secs) : audio ? 'reading…' : '—'}
        </p>
        <UploadField id="mix-cover" label="Cover picture (optional)" accept="image/png,image/jpeg,image/gif,image/webp" onDone={setCover} />
        <fieldset class="genres">
          <legend>Genres (up to 5)</legend>
          {allGenres.map((g) => (
            <label key={g} class="check">
              <input
                type="checkbox"
                name="genre"
                value={g}
                checked={picked.includes(g)}
                disabled={!picked.includes(g) && picked.length >= 5}
                onChange={(e) => setPicked((p) => (e.currentTarget.checked ? [...p, g] : p.filter((x) => x !== g)))}
              />
              {g}
            </label>
          ))}
          {publish.fields['genres'] && <small class="error">{publish.fields['genres']}</small>}
        </fieldset>
        {publish.fields['durationSec'] && <small class="error">Length {publish.fields['durationSec']}</small>}
        <Submit busy={publish.busy}>Publish</Submit>
      </form>
    </section>
  );
}
