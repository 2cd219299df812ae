import { useEffect, useRef, useState } from 'preact/hooks';
import { api } from '../api';
import { count, durationInput, parseDuration } from '../catalog';
import { CheckField, invalid, ReasonField, SelectField, withReason } from '../components/Fields';
import { Field, FormError, Submit, submit, useAction } from '../components/Form';
import { Show, useLoad } from '../components/Load';
import { UploadField } from '../components/Upload';
import { safeFragment } from '../html';
import { navigate } from '../router';
import type { PageProps } from '../routes';
import type { AdminCourse, AdminLesson as L } from '../types';

/**
 * A lesson of a course (admins): a new one (/admin/courses/:id/lessons/new?module=)
 * or an existing one, with a preview of the body as the server rendered and
 * sanitized it, and deleting it.
 */
export default function AdminLesson({ params, query }: PageProps) {
  const id = Number(params['id']);
  const lessonId = params['lessonId'] ? Number(params['lessonId']) : 0;
  const { v } = useLoad(() => api<AdminCourse>('/api/admin/courses/' + id), [id]);
  return (
    <section class="page narrow catalog">
      <p>
        <a href={'/admin/courses/' + id}>← Back to the course</a>
      </p>
      <Show v={v} what="Course administration">
        {(c) => {
          const modules = c.modules ?? [];
          if (modules.length === 0)
            return (
              <p class="card" role="status">
                This course has no module yet: <a href={'/admin/courses/' + id}>add one</a> first.
              </p>
            );
          const lesson = lessonId ? modules.flatMap((m) => m.lessons).find((l) => l.id === lessonId) : undefined;
          if (lessonId && !lesson)
            return (
              <p class="error" role="alert">
                This course has no lesson #{lessonId}.
              </p>
            );
          const moduleId = lesson?.moduleId ?? (Number(query.get('module')) || modules[0]!.id);
          return <LessonEditor c={c} lesson={lesson} moduleId={moduleId} created={query.get('saved') === 'created'} />;
        }}
      </Show>
    </section>
  );
}

function LessonEditor({ c, lesson, moduleId, created }: { c: AdminCourse; lesson: L | undefined; moduleId: number; created: boolean }) {
  const [saved, setSaved] = useState<L | undefined>(lesson);
  const [title, setTitle] = useState(lesson?.title ?? '');
  const [mod, setMod] = useState(String(moduleId));
  const [format, setFormat] = useState<L['format']>(lesson?.format ?? 'markdown');
  const [body, setBody] = useState(lesson?.source ?? '');
  const [videoUrl, setVideoUrl] = useState(lesson?.videoUrl ?? '');
  const [length, setLength] = useState(durationInput(lesson?.durationSec ?? 0));
  const [preview, setPreview] = useState(lesson?.preview ?? false);
  const [drip, setDrip] = useState(String(lesson?.dripDays ?? 0));
  const [reason, setReason] = useState('');
  const [said, setSaid] = useState(created ? 'Lesson created.' : '');
  const save = useAction(async () => {
    setSaid('');
    const durationSec = parseDuration(length);
    const dripDays = count(drip);
    const bad: Record<string, string> = {};
    if (durationSec === undefined) bad['durationSec'] = 'must be minutes (12) or m:ss (12:30)';
    if (dripDays === undefined) bad['dripDays'] = 'must be a whole number of days';
    if (Object.keys(bad).length) throw invalid(bad);
    const fields = { title, format, body, videoUrl: videoUrl.trim(), durationSec, preview, dripDays };
    if (!saved) {
      const l = await api<L>(`/api/admin/modules/${mod}/lessons`, { method: 'POST', body: withReason(fields, reason) });
      navigate(`/admin/courses/${c.id}/lessons/${l.id}?saved=created`, { replace: true });
      return;
    }
    const move = Number(mod) !== saved.moduleId ? { moduleId: Number(mod) } : {};
    const l = await api<L>('/api/admin/lessons/' + saved.id, { method: 'PATCH', body: withReason({ ...fields, ...move }, reason) });
    setSaved(l);
    setReason('');
    setSaid('Saved.');
  });
  const f = save.fields;
  const modules = c.modules ?? [];
  return (
    <>
      <h1>{saved ? saved.title : 'New lesson'}</h1>
      <p class="muted">
        {c.title}
        {c.published ? '' : ' (draft)'}
      </p>
      <form onSubmit={submit(save.run)} noValidate aria-label={saved ? 'Edit the lesson' : 'New lesson'}>
        <FormError text={save.error} />
        <Field label="Title" name="lesson-title" value={title} onValue={setTitle} required maxLength={200} error={f['title']} />
        <SelectField
          label="Module"
          name="lesson-module"
          value={mod}
          onValue={setMod}
          options={modules.map((m) => ({ value: String(m.id), label: m.title }))}
          error={f['moduleId']}
        />
        <SelectField
          label="Format of the body"
          name="lesson-format"
          value={format}
          onValue={(v) => setFormat(v as L['format'])}
          options={[
            { value: 'markdown', label: 'Markdown' },
            { value: 'html', label: 'HTML' },
          ]}
          error={f['format']}
        />
        <div class="field">
          <label for="f-lesson-body">Body</label>
          <textarea
            id="f-lesson-body"
            class="source"
            rows={14}
            value={body}
            spellcheck={true}
            aria-invalid={f['body'] ? true : undefined}
            aria-describedby={'f-lesson-body-hint' + (f['body'] ? ' f-lesson-body-err' : '')}
            onInput={(e) => setBody(e.currentTarget.value)}
          />
          <small id="f-lesson-body-hint" class="muted">
            The server sanitizes it: scripts, styles and event handlers never reach members.
          </small>
          {f['body'] && (
            <small id="f-lesson-body-err" class="error">
              {f['body']}
            </small>
          )}
        </div>
        <Field label="Video link (optional)" name="lesson-videoUrl" value={videoUrl} onValue={setVideoUrl} hint="An https:// link or an /uploads/ path, or upload one below." error={f['videoUrl']} />
        <UploadField id="lesson-video-file" label="Upload a video" accept="video/*" onDone={(u) => u && setVideoUrl(u.url)} />
        <Field label="Length (minutes, or m:ss)" name="lesson-duration" value={length} onValue={setLength} error={f['durationSec']} />
        <CheckField label="Free preview: open to everyone who can see the course" name="lesson-preview" checked={preview} onValue={setPreview} error={f['preview']} />
        <Field
          label="Opens this many days after enrolling"
          name="lesson-drip"
          inputMode="numeric"
          value={drip}
          onValue={setDrip}
          hint="0: at once."
          error={f['dripDays']}
        />
        <ReasonField name="lesson-reason" value={reason} onValue={setReason} error={f['reason']} />
        <Submit busy={save.busy}>{saved ? 'Save lesson' : 'Create lesson'}</Submit>
        {said && <span role="status"> {said}</span>}
      </form>
      {saved && (
        <>
          <section class="card" aria-labelledby="preview-h">
            <h2 id="preview-h">As members see it</h2>
            <Rendered html={saved.body} />
          </section>
          <Delete c={c} l={saved} />
        </>
      )}
    </>
  );
}

/** The body the server rendered, copied in as allow-listed nodes (html.ts), as the lesson page does. */
function Rendered({ html }: { html: string }) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    ref.current?.replaceChildren(safeFragment(html));
  }, [html]);
  return <div class="lesson-body body-html" data-testid="lesson-preview" ref={ref} />;
}

function Delete({ c, l }: { c: AdminCourse; l: L }) {
  const [asking, setAsking] = useState(false);
  const [reason, setReason] = useState('');
  const confirm = useRef<HTMLButtonElement>(null);
  // "Delete…" is replaced by the confirmation: the keyboard goes to it.
  useEffect(() => {
    if (asking) confirm.current?.focus();
  }, [asking]);
  const del = useAction(async () => {
    await api('/api/admin/lessons/' + l.id, { method: 'DELETE', ...(reason.trim() ? { body: { reason: reason.trim() } } : {}) });
    navigate('/admin/courses/' + c.id);
  });
  return (
    <section class="card" aria-labelledby="delete-h">
      <h2 id="delete-h">Delete the lesson</h2>
      <p class="muted">Members' completions of it go too; XP they earned stays.</p>
      <FormError text={del.error} />
      {asking ? (
        <>
          <ReasonField name="delete-reason" value={reason} onValue={setReason} error={del.fields['reason']} />
          <div class="row wrap">
            <button type="button" class="danger" ref={confirm} disabled={del.busy} onClick={() => void del.run()}>
              Delete “{l.title}” for good
            </button>
            <button type="button" class="secondary" onClick={() => setAsking(false)}>
              Keep it
            </button>
          </div>
        </>
      ) : (
        <button type="button" class="secondary" onClick={() => setAsking(true)}>
          Delete…
        </button>
      )}
    </section>
  );
}
