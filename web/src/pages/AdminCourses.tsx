import { useState } from 'preact/hooks';
import { api } from '../api';
import { localToRFC3339, moneyInput, parseMoney, rfc3339ToLocal } from '../catalog';
import { CheckField, invalid, ReasonField, SelectField, withReason } from '../components/Fields';
import { Field, FormError, Submit, submit, useAction } from '../components/Form';
import { Show, useLoad } from '../components/Load';
import { UploadField } from '../components/Upload';
import { fullDate } from '../format';
import { navigate } from '../router';
import type { AdminCourse, List, Unlock } from '../types';
import { unlockText } from './Courses';

/** The courses (admins): every course, published or a draft, and a new one. */
export default function AdminCourses() {
  const { v } = useLoad(() => api<List<AdminCourse>>('/api/admin/courses'), []);
  return (
    <section class="page catalog">
      <h1>Courses</h1>
      <Show v={v} what="Course administration">
        {(l) =>
          l.items.length === 0 ? (
            <p class="muted">No courses yet: create the first below.</p>
          ) : (
            <table class="admin-courses">
              <caption class="sr-only">Every course, newest first</caption>
              <thead>
                <tr>
                  <th scope="col">Course</th>
                  <th scope="col">State</th>
                  <th scope="col">Who may open it</th>
                  <th scope="col">Lessons</th>
                  <th scope="col">Updated</th>
                </tr>
              </thead>
              <tbody>
                {l.items.map((c) => (
                  <tr key={c.id}>
                    <td>
                      <a href={'/admin/courses/' + c.id}>{c.title}</a> <small class="muted">/{c.slug}</small>
                    </td>
                    <td data-label="State">{c.published ? <span class="tag done">Published</span> : <span class="tag">Draft</span>}</td>
                    <td data-label="Who may open it">{unlockText(c.unlock, c.priceCents, c.currency)}</td>
                    <td data-label="Lessons">{c.lessonCount}</td>
                    <td data-label="Updated">{fullDate(c.updatedAt)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )
        }
      </Show>
      <section class="card form-card" aria-labelledby="new-course-h">
        <h2 id="new-course-h">New course</h2>
        <CourseForm prefix="new" submitLabel="Create course" onSaved={(c) => navigate('/admin/courses/' + c.id)} />
      </section>
    </section>
  );
}

const unlockKinds: { value: Unlock['kind']; label: string }[] = [
  { value: 'open', label: 'Open: anyone signed in may enroll' },
  { value: 'level', label: 'From a level' },
  { value: 'purchase', label: 'Bought (Stripe Checkout)' },
  { value: 'date', label: 'Opens on a date' },
];

/** The fields of a course, for a new one (POST) or to edit one (PATCH). */
export function CourseForm({ course, prefix, submitLabel, onSaved }: { course?: AdminCourse; prefix: string; submitLabel: string; onSaved: (c: AdminCourse) => void }) {
  const [title, setTitle] = useState(course?.title ?? '');
  const [slug, setSlug] = useState(course?.slug ?? '');
  const [summary, setSummary] = useState(course?.summary ?? '');
  const [coverUrl, setCoverUrl] = useState(course?.coverUrl ?? '');
  const [kind, setKind] = useState<Unlock['kind']>(course?.unlock.kind ?? 'open');
  const [level, setLevel] = useState(course?.unlock.kind === 'level' ? String(course.unlock.level) : '');
  const [at, setAt] = useState(course?.unlock.kind === 'date' ? rfc3339ToLocal(course.unlock.at) : '');
  const [price, setPrice] = useState(course ? moneyInput(course.priceCents) : '0');
  const [currency, setCurrency] = useState(course?.currency ?? 'usd');
  const [published, setPublished] = useState(course?.published ?? false);
  const [reason, setReason] = useState('');
  const [saved, setSaved] = useState('');
  const save = useAction(async () => {
    setSaved('');
    const priceCents = parseMoney(price);
    const lvl = Number(level);
    const bad: Record<string, string> = {};
    if (priceCents === undefined) bad['priceCents'] = 'must be an amount like 19.99';
    if (kind === 'level' && !(Number.isInteger(lvl) && level.trim() !== '')) bad['unlock.level'] = 'must be a level from 1 to 100';
    if (kind === 'date' && !at) bad['unlock.at'] = 'is required: the date the course opens';
    if (Object.keys(bad).length) throw invalid(bad);
    const unlock = kind === 'level' ? { kind, level: lvl } : kind === 'date' ? { kind, at: localToRFC3339(at) } : { kind };
    const body = withReason({ title, slug: slug.trim(), summary, coverUrl: coverUrl.trim(), priceCents, currency: currency.trim(), unlock, published }, reason);
    const c = course
      ? await api<AdminCourse>('/api/admin/courses/' + course.id, { method: 'PATCH', body })
      : await api<AdminCourse>('/api/admin/courses', { method: 'POST', body });
    setReason('');
    setSaved('Saved.');
    onSaved(c);
  });
  const f = save.fields;
  const p = prefix + '-';
  return (
    <form onSubmit={submit(save.run)} noValidate>
      <FormError text={save.error} />
      <Field label="Title" name={p + 'title'} value={title} onValue={setTitle} required maxLength={200} error={f['title']} />
      <Field
        label="Slug (optional)"
        name={p + 'slug'}
        value={slug}
        onValue={setSlug}
        maxLength={64}
        hint="Lowercase letters, digits and dashes; empty: made from the title."
        error={f['slug']}
      />
      <Field label="Summary" name={p + 'summary'} multiline value={summary} onValue={setSummary} maxLength={2000} error={f['summary']} />
      <Field label="Cover picture link (optional)" name={p + 'coverUrl'} value={coverUrl} onValue={setCoverUrl} hint="An https:// link or an /uploads/ path, or upload one below." error={f['coverUrl']} />
      <UploadField id={p + 'cover-file'} label="Upload a cover picture" accept="image/png,image/jpeg,image/gif,image/webp" onDone={(u) => u && setCoverUrl(u.url)} />
      <SelectField label="Who may open it" name={p + 'unlock'} value={kind} onValue={(v) => setKind(v as Unlock['kind'])} options={unlockKinds} error={f['unlock.kind']} />
      {kind === 'level' && <Field label="Level required" name={p + 'level'} inputMode="numeric" value={level} onValue={setLevel} error={f['unlock.level']} />}
      {kind === 'date' && (
        <div class="field">
          <label for={'f-' + p + 'at'}>Opens on</label>
          <input
            id={'f-' + p + 'at'}
            type="datetime-local"
            value={at}
            aria-invalid={f['unlock.at'] ? true : undefined}
            aria-describedby={f['unlock.at'] ? 'f-' + p + 'at-err' : undefined}
            onInput={(e) => setAt(e.currentTarget.value)}
          />
          {f['unlock.at'] && (
            <small id={'f-' + p + 'at-err'} class="error">
              {f['unlock.at']}
            </small>
          )}
        </div>
      )}
      <Field
          label="Price"
          name={p + 'price'}
          value={price}
          onValue={setPrice}
          hint={kind === 'purchase' ? 'Required for a bought course, e.g. 19.99.' : 'Charged only when bought; 0 for free.'}
          error={f['priceCents']}
        />
        <Field label="Currency" name={p + 'currency'} value={currency} onValue={setCurrency} maxLength={3} hint="Three letters, e.g. usd, eur." error={f['currency']} />
      <CheckField label="Published: members see it in the catalog" name={p + 'published'} checked={published} onValue={setPublished} error={f['published']} />
      <ReasonField name={p + 'reason'} value={reason} onValue={setReason} error={f['reason']} />
      <Submit busy={save.busy}>{submitLabel}</Submit>
      {saved && <span role="status"> {saved}</span>}
    </form>
  );
}
