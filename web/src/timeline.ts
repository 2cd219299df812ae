// A room's messages as the page shows them: the REST history merged with
// the room's live events, without duplicates or gaps.
//
// Order of work: subscribe first, then load the newest page by REST when
// the subscription says so (a fresh join, a resync, a reset room). Events
// that arrive while a load is in flight wait and are applied after it, in
// order, so an edit or deletion is never overwritten by an older read.
// Every item is keyed by id: whatever comes twice is stored once.

import { signal } from '@preact/signals';
import { ApiError } from './api';
import { realtime, type RoomEvent } from './realtime';
import { remember } from './users';
import type { List, Message } from './types';

export interface TimelineOptions {
  room: string;
  /** Loads a page, newest first; before is the cursor of an older page. */
  fetch(before?: string): Promise<List<Message>>;
  /** Event types that add, replace and remove messages. */
  created: string;
  edited?: string;
  deleted?: string;
  /** The signed-in user, whose own typing is not shown. */
  me: number | null;
  /** Called when a message from someone else arrives live. */
  onIncoming?(m: Message): void;
}

const typingFor = 6000;

export class Timeline {
  readonly items = signal<Message[]>([]);
  readonly loading = signal(true);
  readonly loadingOlder = signal(false);
  readonly hasOlder = signal(false);
  readonly error = signal('');
  /** The room does not exist or the reader may not open it (REST 404/403, or the subscription refused). */
  readonly closed = signal(false);
  readonly online = signal<number[]>([]);
  readonly onlineCount = signal(0);
  /** user id → until when (ms) they count as typing. */
  readonly typing = signal<ReadonlyMap<number, number>>(new Map());

  private readonly byId = new Map<number, Message>();
  private cursor: string | undefined;
  private buffer: RoomEvent[] | null = null;
  private unsubscribe: (() => void) | null = null;
  private typingTimer: ReturnType<typeof setInterval> | undefined;
  private stopped = false;

  constructor(private readonly o: TimelineOptions) {}

  start(): void {
    const live = realtime.status.value === 'open';
    this.unsubscribe = realtime.subscribe(this.o.room, {
      event: (e) => this.onEvent(e),
      ready: (info) => {
        this.online.value = info.online;
        this.onlineCount.value = info.onlineCount;
        if (info.refetch) void this.refresh();
      },
      error: (code, message) => {
        if (code === 'forbidden' || code === 'not_found') this.close();
        else this.error.value = message;
      },
    });
    // Not connected (anonymous reader, or still connecting): read by REST
    // now; the subscription refetches when it becomes live.
    if (!live) void this.refresh();
  }

  stop(): void {
    this.stopped = true;
    this.unsubscribe?.();
    clearInterval(this.typingTimer);
  }

  /** Loads the newest page and merges it with what is shown. */
  async refresh(): Promise<void> {
    if (this.buffer) {
      this.pendingRefresh = true;
      return;
    }
    this.buffer = [];
    try {
      const page = await this.o.fetch();
      if (this.stopped) return;
      this.merge(page);
      this.error.value = '';
    } catch (e) {
      if (e instanceof ApiError && (e.status === 404 || (e.status === 403 && e.code === 'forbidden'))) this.close();
      else if (!(e instanceof ApiError && e.status === 401)) this.error.value = (e as Error).message;
    } finally {
      const queued = this.buffer ?? [];
      this.buffer = null;
      for (const e of queued) this.apply(e);
      this.publish();
      this.loading.value = false;
      if (this.pendingRefresh) {
        this.pendingRefresh = false;
        void this.refresh();
      }
    }
  }

  private pendingRefresh = false;

  /** Nothing to show or post to: the page says so instead of a conversation. */
  private close(): void {
    this.closed.value = true;
    this.loading.value = false;
    this.error.value = '';
  }

  async loadOlder(): Promise<void> {
    if (!this.cursor || this.loadingOlder.value) return;
    this.loadingOlder.value = true;
    try {
      const page = await this.o.fetch(this.cursor);
      for (const m of page.items) this.put(m);
      this.cursor = page.nextCursor;
      this.hasOlder.value = !!page.nextCursor;
      this.publish();
    } catch (e) {
      this.error.value = (e as Error).message;
    } finally {
      this.loadingOlder.value = false;
    }
  }

  /** Shows a message the page itself just posted (the event may follow). */
  add(m: Message): void {
    this.put(m);
    this.publish();
  }

  /** Removes a message the page itself just deleted. */
  drop(id: number): void {
    if (this.byId.delete(id)) this.publish();
  }

  private merge(page: List<Message>): void {
    const ids = page.items.map((m) => m.id);
    const oldest = Math.min(...ids);
    const newestKnown = this.byId.size ? Math.max(...this.byId.keys()) : 0;
    if (this.byId.size === 0 || (page.nextCursor && oldest > newestKnown)) {
      // First load, or more was missed than one page: start again from
      // the newest page rather than show a hole.
      this.byId.clear();
      this.cursor = page.nextCursor;
      this.hasOlder.value = !!page.nextCursor;
    } else if (ids.length) {
      // Within the page's range, what the server no longer has was deleted.
      const present = new Set(ids);
      for (const id of [...this.byId.keys()]) if (id >= oldest && !present.has(id)) this.byId.delete(id);
    } else {
      this.byId.clear();
    }
    for (const m of page.items) this.put(m);
  }

  private put(m: Message): void {
    this.byId.set(m.id, m);
    remember(m.author);
  }

  private publish(): void {
    this.items.value = [...this.byId.values()].sort((a, b) => a.id - b.id);
  }

  private onEvent(e: RoomEvent): void {
    if (e.type === 'typing' || e.type === 'presence') {
      this.apply(e);
      return;
    }
    if (this.buffer) this.buffer.push(e);
    else {
      this.apply(e);
      this.publish();
    }
  }

  private apply(e: RoomEvent): void {
    const o = this.o;
    switch (e.type) {
      case o.created: {
        const m = e.data as Message;
        const isNew = !this.byId.has(m.id);
        this.put(m);
        this.stopTyping(m.author.id);
        if (isNew && m.author.id !== o.me) o.onIncoming?.(m);
        return;
      }
      case o.edited: {
        const m = e.data as Message;
        if (this.byId.has(m.id)) this.put(m);
        return;
      }
      case o.deleted:
        this.byId.delete((e.data as { id: number }).id);
        return;
      case 'typing': {
        const id = (e.data as { userId: number }).userId;
        if (id === o.me) return;
        const t = new Map(this.typing.value);
        t.set(id, Date.now() + typingFor);
        this.typing.value = t;
        this.typingTimer ??= setInterval(() => this.expireTyping(), 1000);
        return;
      }
      case 'presence':
        // realtime keeps the set; read its result from the room.
        this.presence(e.data as { joined?: number[]; left?: number[] });
        return;
    }
  }

  private presence(d: { joined?: number[]; left?: number[] }): void {
    const set = new Set(this.online.value);
    for (const id of d.joined ?? []) set.add(id);
    for (const id of d.left ?? []) set.delete(id);
    this.online.value = [...set];
    this.onlineCount.value = set.size;
  }

  private stopTyping(id: number): void {
    if (!this.typing.value.has(id)) return;
    const t = new Map(this.typing.value);
    t.delete(id);
    this.typing.value = t;
  }

  private expireTyping(): void {
    const now = Date.now();
    const t = new Map([...this.typing.value].filter(([, until]) => until > now));
    if (t.size !== this.typing.value.size) this.typing.value = t;
    if (t.size === 0) {
      clearInterval(this.typingTimer);
      this.typingTimer = undefined;
    }
  }
}
