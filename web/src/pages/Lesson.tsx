import { useEffect, useRef, useState } from 'preact/hooks';
import { api, ApiError } from '../api';
import { FormError, useAction } from '../components/Form';
import { Show, useLoad } from '../components/Load';
import { plural } from '../format';
import { safeFragment } from '../html';
import type { PageProps } from '../routes';
import { me } from '../session';
import type { CourseDetail, Lesson as L, LockedReason, Progress } from '../types';
import { lockText } from './Course';

interface Loaded {
  lesson: L | null;
  locked: { reason: LockedReason; unlocksAt: string | null } | null;
  course: CourseDetail;
}

/** One lesson: its body (sanitized by the server, copied in as nodes), video, and "mark complete". */
export default function Lesson({ params }: PageProps) {
  const id = Number(params['id']);
  const lessonId = Number(params['lessonId']);
  const { v, set } = useLoad<Loaded>(async () => {
    const course = await api<CourseDetail>('/api/courses/' + id);
    try {
      const lesson = await api<L>(`/api/courses/${id}/lessons/${lessonId}`);
      document.title = lesson.title + ' · Plaza';
      return { lesson, locked: null, course };
    } catch (e) {
      if (e instanceof ApiError && e.code === 'locked') {
        return { lesson: null, locked: { reason: e.details['lockedReason'] as LockedReason, unlocksAt: (e.details['unlocksAt'] as string) ?? null }, course };
      }
      throw e;
    }
  }, [id, lessonId]);
  const [done, setDone] = useState<{ progress: Progress; xpAwarded: number; courseCompleted: boolean } | null>(null);
  const complete = useAction(async () => {
    const r = await api<{ progress: Progress; xpAwarded: number; courseCompleted: boolean }>(`/api/courses/${id}/lessons/${lessonId}/complete`, { method: 'POST' });
    setDone(r);
    if (v.state === 'ok' && v.data.lesson) set({ ...v.data, lesson: { ...v.data.lesson, completed: true } });
  });
  return (
    <section class="page narrow lesson">
      <p>
        <a href={'/courses/' + id}>← Back to the course</a>
      </p>
      <Show v={v} what="This lesson">
        {({ lesson, locked, course }) => {
          const all = course.modules.flatMap((m) => m.lessons);
          const at = all.findIndex((l) => l.id === lessonId);
          const next = at >= 0 ? all.slice(at + 1).find((l) => !l.locked) : undefined;
          if (!lesson) {
            // Say what the course page says of this lesson (its summary in
            // GET /api/courses/{id}); the lesson's own 403 only when the
            // course does not list it as locked.
            const row = all[at];
            const why = row?.locked && row.lockedReason ? { lockedReason: row.lockedReason, unlocksAt: row.unlocksAt } : { lockedReason: locked?.reason ?? null, unlocksAt: locked?.unlocksAt ?? null };
            return (
              <>
                <h1>{row?.title ?? 'Lesson'}</h1>
                <p class="card lock-reason" role="status" data-reason={why.lockedReason ?? ''}>
                  {lockText(why, course)}
                </p>
              </>
            );
          }
          return (
            <article>
              <h1>{lesson.title}</h1>
              {lesson.videoUrl && <video class="lesson-video" controls preload="metadata" src={lesson.videoUrl} aria-label={'Video: ' + lesson.title} />}
              <LessonBody html={lesson.body} />
              {me.value && course.enrolled && (
                <div class="lesson-done">
                  <FormError text={complete.error} />
                  {lesson.completed ? (
                    <p role="status" data-testid="lesson-completed">
                      ✓ Completed
                      {done && (
                        <>
                          {' '}
                          · {done.progress.completed} of {plural(done.progress.total, 'lesson')} done
                          {done.xpAwarded > 0 && ` · +${done.xpAwarded} XP`}
                          {done.courseCompleted && ' · Course completed!'}
                        </>
                      )}
                    </p>
                  ) : (
                    <button type="button" onClick={() => void complete.run()} disabled={complete.busy}>
                      Mark as complete
                    </button>
                  )}
                </div>
              )}
              {next && (
                <p>
                  <a href={`/courses/${id}/lessons/${next.id}`}>Next: {next.title} →</a>
                </p>
              )}
            </article>
          );
        }}
      </Show>
    </section>
  );
}

function LessonBody({ html }: { html: string }) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    ref.current?.replaceChildren(safeFragment(html));
  }, [html]);
  return <div class="lesson-body body-html" ref={ref} />;
}
