import { api } from '../api';
import { Show, useLoad } from '../components/Load';
import { money, plural } from '../format';
import type { Course, List, Unlock } from '../types';
import { fullDate } from '../format';

/** Who may open a course, in words. */
export function unlockText(u: Unlock, priceCents: number, currency: string): string {
  switch (u.kind) {
    case 'open':
      return 'Free to join';
    case 'level':
      return `From level ${u.level}`;
    case 'purchase':
      return money(priceCents, currency);
    case 'date':
      return 'Opens ' + fullDate(u.at);
  }
}

export function ProgressBar({ p, label }: { p: { completed: number; total: number }; label: string }) {
  return (
    <div class="progress-row">
      <progress max={Math.max(p.total, 1)} value={p.completed} aria-label={label} />
      <small class="muted">
        {p.completed} of {plural(p.total, 'lesson')} done
      </small>
    </div>
  );
}

/** The course catalog. */
export default function Courses() {
  const { v } = useLoad(() => api<List<Course>>('/api/courses?limit=100'), []);
  return (
    <section class="page">
      <h1>Courses</h1>
      <Show v={v} what="Courses">
        {(l) =>
          l.items.length === 0 ? (
            <p class="muted">No courses yet.</p>
          ) : (
            <ul class="cards-grid" data-testid="courses">
              {l.items.map((c) => (
                <li key={c.id} class="card course-card">
                  {c.coverUrl && <img class="cover" src={c.coverUrl} alt="" loading="lazy" width={320} height={180} />}
                  <h2>
                    <a href={'/courses/' + c.id}>{c.title}</a>
                  </h2>
                  <p class="muted">{c.summary}</p>
                  <p>
                    <span class="tag">{unlockText(c.unlock, c.priceCents, c.currency)}</span>
                    <span class="tag">{plural(c.lessonCount, 'lesson')}</span>
                    {c.enrolled && <span class="tag">Enrolled</span>}
                  </p>
                  {c.enrolled && <ProgressBar p={c.progress} label={`Progress in ${c.title}`} />}
                </li>
              ))}
            </ul>
          )
        }
      </Show>
    </section>
  );
}
