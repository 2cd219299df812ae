import { useEffect } from 'preact/hooks';
import { api } from '../api';
import { FormError, useAction } from '../components/Form';
import { Show, useLoad } from '../components/Load';
import { fullDate } from '../format';
import { realtime } from '../realtime';
import type { PageProps } from '../routes';
import { here } from '../router';
import { me } from '../session';
import type { Event as E, RSVPStatus } from '../types';
import { placesText, rsvpText } from './Events';

const choices: { status: Exclude<RSVPStatus, 'waitlisted'>; label: string }[] = [
  { status: 'going', label: 'Going' },
  { status: 'interested', label: 'Interested' },
  { status: 'not_going', label: 'Not going' },
];

/** An event with RSVP; a full event puts "going" on the waitlist and says the place. */
export default function Event({ params }: PageProps) {
  const id = Number(params['id']);
  const { v, reload } = useLoad(async () => {
    const e = await api<E>('/api/events/' + id);
    document.title = e.title + ' · Plaza';
    return e;
  }, [id]);
  // The answer and the place in line come back with the event (also after
  // a reload of the page): read it again after answering.
  const rsvp = useAction(async (status: string) => {
    await api<{ status: RSVPStatus; position: number | null }>('/api/events/' + id + '/rsvp', { method: 'POST', body: { status } });
    reload();
  });
  // A place freed up: the server moves us off the waitlist and says so.
  const uid = me.value?.id;
  useEffect(() => {
    if (!uid) return;
    return realtime.subscribe('user:' + uid, {
      event: (ev) => {
        if (ev.type === 'event.promoted' && (ev.data as { eventId?: number }).eventId === id) {
          reload();
        }
      },
    });
  }, [uid, id]);
  return (
    <section class="page narrow">
      <p>
        <a href="/events">← All events</a>
      </p>
      <Show v={v} what="This event">
        {(e) => {
          const started = new Date(e.startsAt).getTime() <= Date.now();
          return (
            <article class="event">
              <h1>{e.title}</h1>
              <p>
                <time dateTime={e.startsAt}>{fullDate(e.startsAt)}</time> – <time dateTime={e.endsAt}>{fullDate(e.endsAt)}</time>
              </p>
              {e.location && <p>Where: {e.location}</p>}
              {e.streamUrl && /^https?:\/\//.test(e.streamUrl) && (
                <p>
                  Stream:{' '}
                  <a href={e.streamUrl} rel="noopener noreferrer nofollow" target="_blank">
                    {e.streamUrl}
                  </a>
                </p>
              )}
              {e.description && <p class="body">{e.description}</p>}
              <p class="muted" data-testid="places">
                {placesText(e)}
              </p>
              {me.value ? (
                started ? (
                  <p class="muted">This event has started; answers are closed.</p>
                ) : (
                  <div class="rsvp">
                    <p role="status" data-testid="my-rsvp">
                      {e.myRsvp ? rsvpText(e.myRsvp, e.myWaitlistPosition) : 'Will you come?'}
                    </p>
                    <div class="tabs" role="group" aria-label="Your answer">
                      {choices.map((c) => {
                        const cur = e.myRsvp === c.status || (c.status === 'going' && e.myRsvp === 'waitlisted');
                        return (
                          <button key={c.status} type="button" class={cur ? '' : 'secondary'} aria-pressed={cur} disabled={rsvp.busy} onClick={() => void rsvp.run(c.status)}>
                            {c.label}
                          </button>
                        );
                      })}
                    </div>
                    <FormError text={rsvp.error} />
                  </div>
                )
              ) : (
                <p>
                  <a href={'/sign-in?next=' + encodeURIComponent(here())}>Sign in</a> to answer.
                </p>
              )}
            </article>
          );
        }}
      </Show>
    </section>
  );
}
