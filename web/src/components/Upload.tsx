import { useState } from 'preact/hooks';
import { api } from '../api';

export interface Uploaded {
  url: string;
  path: string;
}

/** A file input that uploads at once (POST /api/uploads) and gives back the stored file's URL. */
export function UploadField({ id, label, accept, onDone, hint }: { id: string; label: string; accept: string; onDone: (u: Uploaded | null) => void; hint?: string }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const [done, setDone] = useState('');
  return (
    <div class="field">
      <label for={id}>{label}</label>
      <input
        id={id}
        type="file"
        accept={accept}
        disabled={busy}
        aria-describedby={id + '-state'}
        onChange={async (e) => {
          const f = e.currentTarget.files?.[0];
          onDone(null);
          setError('');
          setDone('');
          if (!f) return;
          setBusy(true);
          try {
            const form = new FormData();
            form.append('file', f);
            const u = await api<Uploaded>('/api/uploads', { method: 'POST', form });
            setDone('Uploaded ' + f.name + '.');
            onDone(u);
          } catch (err) {
            setError((err as Error).message);
          } finally {
            setBusy(false);
          }
        }}
      />
      <small id={id + '-state'} class={error ? 'error' : 'muted'} role={error ? 'alert' : undefined} data-testid={id + '-state'}>
        {busy ? 'Uploading…' : error || done || hint || ''}
      </small>
    </div>
  );
}
