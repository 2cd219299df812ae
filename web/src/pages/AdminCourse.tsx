import { useState } from 'preact/hooks';
import { api } from '../api';
import { ReasonField, withReason } from '../components/Fields';
import { Field, FormError, Submit, submit, useAction } from '../components/Form';
import { Show, useLoad } from '../components/Load';
import { duration, plural } from '../format';
import type { PageProps } from '../routes';
import type { AdminCourse as C, AdminModule } from '../types';
import { CourseForm } from './AdminCourses';

/** One course (admins): publish or withdraw it, edit its details, its modules and their lessons. */
export default function AdminCourse({ params }: PageProps) {
  const id = Number(params['id']);
  const { v, set, reload } = useLoad(() => api<C>('/api/admin/courses/' + id), [id]);
  return (
    <section class="page narrow catalog">
      <p>
        <a href="/admin/courses">← All courses</a>
      </p>
      <Show v={v} what="Course administration">
        {(c) => (
          <>
            <h1>{c.title}</h1>
            <Publish c={c} onSaved={(n) => set({ ...n, modules: n.modules ?? c.modules })} />
            <section aria-labelledby="modules-h">
              <h2 id="modules-h">Modules and lessons</h2>
              {(c.modules ?? []).length === 0 && <p class="muted">No modules yet: add the first below, then its lessons.</p>}
              {(c.modules ?? []).map((m) => (
                <Module key={m.id} c={c} m={m} />
              ))}
              <NewModule courseId={c.id} onSaved={reload} />
            </section>
            <details class="card edit-details">
              <summary>Edit the course's details</summary>
              <CourseForm key={c.updatedAt} course={c} prefix="course" submitLabel="Save course" onSaved={(n) => set({ ...n, modules: n.modules ?? c.modules })} />
            </details>
          </>
        )}
      </Show>
    </section>
  );
}

/** Published or a draft, and the one switch between them. */
function Publish({ c, onSaved }: { c: C; onSaved: (c: C) => void }) {
  const [reason, setReason] = useState('');
  const [said, setSaid] = useState('');
  const act = useAction(async () => {
    setSaid('');
    const n = await api<C>('/api/admin/courses/' + c.id, { method: 'PATCH', body: withReason({ published: !c.published }, reason) });
    setReason('');
    setSaid(n.published ? 'Published: members see it in the catalog.' : 'Withdrawn: it is a draft again.');
    onSaved(n);
  });
  return (
    <form class="card" onSubmit={submit(act.run)} noValidate aria-labelledby="publish-h">
      <h2 id="publish-h">Publishing</h2>
      <p>
        {c.published ? <span class="tag done">Published</span> : <span class="tag">Draft</span>}{' '}
        {c.published ? <a href={'/courses/' + c.id}>Open the member's page</a> : <span class="muted">Only admins see a draft.</span>}{' '}
        <span class="muted">
          · {plural(c.lessonCount, 'lesson')} in {plural((c.modules ?? []).length, 'module')}
        </span>
      </p>
      <FormError text={act.error} />
      <ReasonField name="publish-reason" value={reason} onValue={setReason} error={act.fields['reason']} />
      <Submit busy={act.busy}>{c.published ? 'Withdraw' : 'Publish'}</Submit>
      {said && <span role="status"> {said}</span>}
    </form>
  );
}

function Module({ c, m }: { c: C; m: AdminModule }) {
  return (
    <section class="card module-admin" aria-labelledby={'mod-' + m.id}>
      <h3 id={'mod-' + m.id}>{m.title}</h3>
      {m.lessons.length === 0 ? (
        <p class="muted">No lessons yet.</p>
      ) : (
        <ol class="lessons">
          {m.lessons.map((l) => (
            <li key={l.id} class="lesson-row" data-lesson={l.id}>
              <div>
                <a class="lesson-title" href={`/admin/courses/${c.id}/lessons/${l.id}`}>
                  {l.title}
                </a>{' '}
                <span class="tag">{l.format === 'html' ? 'HTML' : 'Markdown'}</span>
                {l.preview && <span class="tag">Preview</span>}
                {l.dripDays > 0 && <span class="tag">Opens {plural(l.dripDays, 'day')} after enrolling</span>}
              </div>
              {l.durationSec > 0 && <small class="muted">{duration(l.durationSec)}</small>}
            </li>
          ))}
        </ol>
      )}
      <p>
        <a class="button small secondary-link" href={`/admin/courses/${c.id}/lessons/new?module=${m.id}`} aria-label={`Add a lesson to ${m.title}`}>
          Add a lesson
        </a>
      </p>
    </section>
  );
}

function NewModule({ courseId, onSaved }: { courseId: number; onSaved: () => void }) {
  const [title, setTitle] = useState('');
  const [reason, setReason] = useState('');
  const [said, setSaid] = useState('');
  const add = useAction(async () => {
    setSaid('');
    const m = await api<AdminModule>(`/api/admin/courses/${courseId}/modules`, { method: 'POST', body: withReason({ title }, reason) });
    setTitle('');
    setReason('');
    setSaid(`Added the module “${m.title}”.`);
    onSaved();
  });
  return (
    <form class="card" onSubmit={submit(add.run)} noValidate aria-labelledby="new-module-h">
      <h3 id="new-module-h">Add a module</h3>
      <FormError text={add.error} />
      <Field label="Module title" name="module-title" value={title} onValue={setTitle} required maxLength={200} error={add.fields['title']} />
      <ReasonField name="module-reason" value={reason} onValue={setReason} error={add.fields['reason']} />
      <Submit busy={add.busy}>Add module</Submit>
      {said && <span role="status"> {said}</span>}
    </form>
  );
}
