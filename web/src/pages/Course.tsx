import { useState } from 'preact/hooks';
import { api, ApiError, missingAPI } from '../api';
import { FormError, useAction } from '../components/Form';
import { Show, useLoad } from '../components/Load';
import { duration, fullDate, money } from '../format';
import type { PageProps } from '../routes';
import { here } from '../router';
import { me } from '../session';
import type { CourseDetail, LessonSummary } from '../types';
import { ProgressBar, unlockText } from './Courses';

/** Why a lesson is locked, in words. */
export function lockText(l: Pick<LessonSummary, 'lockedReason' | 'unlocksAt'>, c?: CourseDetail): string {
  const at = l.unlocksAt ? ' Opens ' + fullDate(l.unlocksAt) + '.' : '';
  switch (l.lockedReason) {
    case 'not_enrolled':
      return 'Enroll to open this lesson.' + at;
    case 'level_required':
      return c?.unlock.kind === 'level' ? `Reach level ${c.unlock.level} to open this lesson.` : 'Your level is too low for this lesson.';
    case 'purchase_required':
      return 'Buy the course to open this lesson.';
    case 'drip':
      return l.unlocksAt ? 'Opens ' + fullDate(l.unlocksAt) + ', some days after you enrolled.' : 'Opens some days after you enrolled.';
    default:
      return 'Locked.' + at;
  }
}

/** A course: its modules and lessons, each open or saying why it is locked; enroll. */
export default function Course({ params }: PageProps) {
  const id = Number(params['id']);
  const { v, reload } = useLoad(() => api<CourseDetail>('/api/courses/' + id), [id]);
  const [price, setPrice] = useState<number | null>(null);
  const enroll = useAction(async () => {
    try {
      await api('/api/courses/' + id + '/enroll', { method: 'POST' });
      reload();
    } catch (e) {
      if (e instanceof ApiError && e.code === 'payment_required') setPrice(Number(e.details['priceCents']) || 0);
      throw e;
    }
  });
  const buy = useAction(async () => {
    try {
      const r = await api<{ url: string }>('/api/stripe/checkout', { method: 'POST', body: { item: 'course', courseId: id } });
      window.location.assign(r.url);
    } catch (e) {
      if (missingAPI(e)) throw new Error('Buying courses is not available on this server.');
      throw e;
    }
  });
  return (
    <section class="page narrow">
      <p>
        <a href="/courses">← All courses</a>
      </p>
      <Show v={v} what="This course">
        {(c) => (
          <>
            <h1>{c.title}</h1>
            {c.summary && <p>{c.summary}</p>}
            <p>
              <span class="tag">{unlockText(c.unlock, c.priceCents, c.currency)}</span>
            </p>
            {c.enrolled ? (
              <ProgressBar p={c.progress} label="Your progress in this course" />
            ) : me.value ? (
              <div class="enroll">
                <FormError text={enroll.error} />
                <button type="button" onClick={() => void enroll.run()} disabled={enroll.busy}>
                  Enroll
                </button>
                {price !== null && (
                  <p>
                    This course costs {money(price, c.currency)}.{' '}
                    <button type="button" class="secondary" onClick={() => void buy.run()} disabled={buy.busy}>
                      Buy it
                    </button>
                  </p>
                )}
                <FormError text={buy.error} />
              </div>
            ) : (
              <p>
                <a href={'/sign-in?next=' + encodeURIComponent(here())}>Sign in</a> to enroll.
              </p>
            )}
            {c.modules.map((m) => (
              <section key={m.id} class="module" aria-labelledby={'mod-' + m.id}>
                <h2 id={'mod-' + m.id}>{m.title}</h2>
                <ol class="lessons">
                  {m.lessons.map((l) => (
                    <li key={l.id} class={'card lesson-row' + (l.locked ? ' locked' : '')} data-lesson={l.id}>
                      <div>
                        {l.locked ? (
                          <span class="lesson-title">{l.title}</span>
                        ) : (
                          <a class="lesson-title" href={`/courses/${c.id}/lessons/${l.id}`}>
                            {l.title}
                          </a>
                        )}
                        {l.preview && <span class="tag">Preview</span>}
                        {l.completed && <span class="tag done">Done</span>}
                        {l.locked && (
                          <small class="lock-reason" data-reason={l.lockedReason ?? ''}>
                            <span class="lock-label">Locked: </span>
                            {lockText(l, c)}
                          </small>
                        )}
                      </div>
                      {l.durationSec > 0 && <small class="muted">{duration(l.durationSec)}</small>}
                    </li>
                  ))}
                </ol>
              </section>
            ))}
          </>
        )}
      </Show>
    </section>
  );
}
