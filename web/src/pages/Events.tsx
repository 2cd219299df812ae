import { api } from '../api';
import { Show, useLoad } from '../components/Load';
import { fullDate, plural } from '../format';
import type { PageProps } from '../routes';
import { allowed } from '../session';
import type { Event, List } from '../types';

export function rsvpText(s: Event['myRsvp'], position: number | null = null): string {
  if (s === 'waitlisted' && position !== null) return `You are #${position} on the waitlist`;
  switch (s) {
    case 'going':
      return 'You are going';
    case 'interested':
      return 'You are interested';
    case 'not_going':
      return 'You are not going';
    case 'waitlisted':
      return 'You are on the waitlist';
    default:
      return '';
  }
}

export function placesText(e: Event): string {
  if (e.capacity === null) return `${e.going} going`;
  const left = Math.max(0, e.capacity - e.going);
  return `${e.going} of ${e.capacity} going · ${left > 0 ? plural(left, 'place') + ' left' : 'full'}` + (e.waitlisted > 0 ? ` · ${e.waitlisted} on the waitlist` : '');
}

/** Upcoming events. */
export default function Events(_: PageProps) {
  const { v } = useLoad(() => api<List<Event>>('/api/events?limit=50'), []);
  return (
    <section class="page narrow">
      <div class="row">
        <h1>Events</h1>
        {allowed('creator') && (
          <a class="button small" href="/events/new">
            Create an event
          </a>
        )}
      </div>
      <Show v={v} what="Events">
        {(l) =>
          l.items.length === 0 ? (
            <p class="muted">No upcoming events.</p>
          ) : (
            <ul class="events" data-testid="events">
              {l.items.map((e) => (
                <li key={e.id} class="card">
                  <h2>
                    <a href={'/events/' + e.id}>{e.title}</a>
                  </h2>
                  <p>
                    <time dateTime={e.startsAt}>{fullDate(e.startsAt)}</time>
                    {e.location && ' · ' + e.location}
                  </p>
                  <p class="muted">
                    {placesText(e)}
                    {e.myRsvp && <span class="tag">{rsvpText(e.myRsvp, e.myWaitlistPosition)}</span>}
                  </p>
                </li>
              ))}
            </ul>
          )
        }
      </Show>
    </section>
  );
}
