// The WebSocket client: the only module that speaks Plaza's real-time
// protocol (docs/realtime.md), shared by every page.
//
// - One connection per tab, opened with the session cookie.
// - Reconnects with exponential backoff and jitter; the connection state is
//   a signal the shell shows ("Reconnecting…").
// - Remembers the last seq of every room and resubscribes with since, so
//   the server replays what was missed; a seq seen before is dropped, so
//   nothing arrives twice. resync (history too old), a gap in the seqs, or a
//   room whose seq went backwards (its server restarted without Redis) tell
//   the page to refetch by REST.
// - Close 4003 (session ended) does not reconnect: the app returns to
//   sign-in.

import { signal } from '@preact/signals';

export type Status = 'offline' | 'connecting' | 'open' | 'reconnecting';

export interface RoomEvent {
  room: string;
  /** 0 for ephemeral events (typing, presence). */
  seq: number;
  type: string;
  data: unknown;
  ts?: number;
}

export interface ReadyInfo {
  online: number[];
  onlineCount: number;
  /** The page must (re)load the room by REST: nothing is being replayed. */
  refetch: boolean;
}

export interface RoomHandlers {
  event(e: RoomEvent): void;
  ready?(info: ReadyInfo): void;
  error?(code: string, message: string): void;
}

interface Frame {
  op: string;
  room?: string;
  seq?: number;
  type?: string;
  data?: unknown;
  ts?: number;
  online?: number[];
  onlineCount?: number;
  code?: string;
  message?: string;
}

class Room {
  /** Last seq delivered; -1 before the first subscribed. */
  seq = -1;
  /** since sent with the pending subscribe, or null. */
  since: number | null = null;
  subscribed = false;
  online: number[] = [];
  onlineCount = 0;
  readonly handlers = new Set<RoomHandlers>();
  constructor(readonly name: string) {}
}

const pingEvery = 25_000;
const deadAfter = 60_000;
const backoffBase = 500;
const backoffCap = 15_000;
/** A connection that lived this long resets the backoff. */
const stableAfter = 10_000;

export class Realtime {
  readonly status = signal<Status>('offline');
  /** When the next attempt starts (ms since epoch), while reconnecting. */
  readonly retryAt = signal(0);

  private ws: WebSocket | null = null;
  private readonly rooms = new Map<string, Room>();
  private wanted = false;
  /** The reason of the last session.revoked event in the user's room, and when. */
  private revoked = { reason: '', at: 0 };
  private attempt = 0;
  private openedAt = 0;
  private lastFrame = 0;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private pingTimer: ReturnType<typeof setInterval> | undefined;

  /**
   * @param url the WebSocket URL
   * @param ended called on close 4003 with the reason (logout, revoked, ...)
   * @param check called before retrying a connection that never opened; it
   *   resolves false when the session is gone (the handshake got a 401)
   */
  constructor(
    private readonly url: () => string,
    private readonly ended: (reason: string) => void,
    private readonly check: () => Promise<boolean>,
  ) {
    if (typeof window !== 'undefined') {
      window.addEventListener('online', () => this.wanted && !this.ws && this.connectNow());
    }
  }

  start(): void {
    if (this.wanted) return;
    this.wanted = true;
    this.attempt = 0;
    this.connect();
  }

  /** Closes the connection and forgets every room's seq (sign-out). */
  stop(): void {
    this.wanted = false;
    clearTimeout(this.retryTimer);
    clearInterval(this.pingTimer);
    const ws = this.ws;
    this.ws = null;
    ws?.close(1000, 'signed out');
    for (const r of this.rooms.values()) {
      r.subscribed = false;
      r.seq = -1;
    }
    this.status.value = 'offline';
  }

  /**
   * Joins room for as long as the returned function is not called. Events
   * arrive in seq order without duplicates; ready says when the room is
   * live and whether the page must refetch it by REST.
   */
  subscribe(room: string, h: RoomHandlers): () => void {
    let r = this.rooms.get(room);
    if (!r) {
      r = new Room(room);
      this.rooms.set(room, r);
    }
    r.handlers.add(h);
    if (r.subscribed) {
      h.ready?.({ online: [...r.online], onlineCount: r.onlineCount, refetch: true });
    } else if (r.handlers.size === 1) {
      this.sendSubscribe(r);
    }
    return () => {
      const cur = this.rooms.get(room);
      if (!cur) return;
      cur.handlers.delete(h);
      if (cur.handlers.size > 0 || room.startsWith('user:')) return;
      this.rooms.delete(room);
      if (cur.subscribed) this.send({ op: 'unsubscribe', room });
    };
  }

  /** Tells the room that the user is typing (the caller throttles). */
  typing(room: string): void {
    if (this.rooms.get(room)?.subscribed) this.send({ op: 'typing', room });
  }

  /** Reconnects at once (the browser came back online, or a test asks). */
  connectNow(): void {
    if (!this.wanted || this.ws) return;
    clearTimeout(this.retryTimer);
    this.connect();
  }

  private connect(): void {
    this.status.value = this.attempt === 0 ? 'connecting' : 'reconnecting';
    let ws: WebSocket;
    try {
      ws = new WebSocket(this.url());
    } catch {
      this.retry(false);
      return;
    }
    this.ws = ws;
    let opened = false;
    ws.onopen = () => {
      opened = true;
      this.openedAt = this.lastFrame = Date.now();
      this.status.value = 'open';
      // user: rooms are joined by the server itself.
      for (const r of this.rooms.values()) if (!r.name.startsWith('user:')) this.sendSubscribe(r);
      clearInterval(this.pingTimer);
      this.pingTimer = setInterval(() => this.keepalive(ws), pingEvery);
    };
    ws.onmessage = (m: MessageEvent) => {
      if (this.ws !== ws) return;
      this.lastFrame = Date.now();
      let f: Frame;
      try {
        f = JSON.parse(String(m.data)) as Frame;
      } catch {
        return;
      }
      this.frame(f);
    };
    ws.onclose = (ev: CloseEvent) => {
      if (this.ws !== ws) return;
      this.lost();
      if (ev.code === 4003) {
        this.wanted = false;
        this.status.value = 'offline';
        this.ended(this.endReason(ev.reason));
        return;
      }
      this.retry(opened);
    };
  }

  /**
   * Why the server closed with 4003: the reason of the session.revoked
   * event that came just before (logout, revoked, password_reset, banned),
   * else what the close frame's text says.
   */
  private endReason(text: string): string {
    if (this.revoked.reason && Date.now() - this.revoked.at < 10_000) return this.revoked.reason;
    if (/\bbanned\b/.test(text)) return 'banned';
    return 'ended';
  }

  /** Forgets the current socket; rooms will be resubscribed on the next. */
  private lost(): void {
    this.ws = null;
    clearInterval(this.pingTimer);
    for (const r of this.rooms.values()) r.subscribed = false;
  }

  private async retry(opened: boolean): Promise<void> {
    if (!this.wanted) {
      this.status.value = 'offline';
      return;
    }
    if (opened && Date.now() - this.openedAt > stableAfter) this.attempt = 0;
    this.attempt++;
    this.status.value = 'reconnecting';
    // Equal jitter: half the window fixed, half random, so clients that lost
    // the same server do not come back in one wave.
    const window = Math.min(backoffCap, backoffBase * 2 ** Math.min(this.attempt - 1, 10));
    const delay = window / 2 + Math.random() * (window / 2);
    this.retryAt.value = Date.now() + delay;
    if (!opened) {
      // A handshake refused with 401 looks like any failed connection to a
      // browser: ask over HTTP whether the session still exists.
      const alive = await this.check().catch(() => true);
      if (!alive) {
        this.wanted = false;
        this.status.value = 'offline';
        this.ended('expired');
        return;
      }
      if (!this.wanted) return;
    }
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.wanted && !this.ws && this.connect(), Math.max(0, this.retryAt.value - Date.now()));
  }

  private keepalive(ws: WebSocket): void {
    if (this.ws !== ws) return;
    if (Date.now() - this.lastFrame > deadAfter) {
      // The network went away without a close frame: do not wait for TCP.
      this.lost();
      ws.close();
      this.retry(true);
      return;
    }
    this.send({ op: 'ping' });
  }

  private send(f: object): void {
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(f));
  }

  private sendSubscribe(r: Room): void {
    if (this.ws?.readyState !== WebSocket.OPEN) return;
    r.since = r.seq >= 0 ? r.seq : null;
    this.send(r.since === null ? { op: 'subscribe', room: r.name } : { op: 'subscribe', room: r.name, since: r.since });
  }

  private room(name: string | undefined): Room | undefined {
    if (!name) return undefined;
    let r = this.rooms.get(name);
    if (!r && name.startsWith('user:')) {
      r = new Room(name); // joined by the server before any page asked
      this.rooms.set(name, r);
    }
    return r;
  }

  private frame(f: Frame): void {
    const r = this.room(f.room);
    switch (f.op) {
      case 'subscribed': {
        if (!r) return;
        const cur = f.seq ?? 0;
        if (r.since !== null && cur < r.since) {
          // The room is behind what we saw: it was reset (an instance
          // without Redis restarted). The server would now skip its seqs
          // up to our since, so join again from now and refetch by REST.
          r.since = null;
          r.seq = -1;
          this.send({ op: 'unsubscribe', room: r.name });
          this.sendSubscribe(r);
          return;
        }
        // Replay follows when since was sent (and the room still has it).
        const replaying = r.since !== null;
        if (!replaying) r.seq = cur;
        r.since = null;
        r.subscribed = true;
        r.online = f.online ?? [];
        r.onlineCount = f.onlineCount ?? r.online.length;
        for (const h of r.handlers) h.ready?.({ online: [...r.online], onlineCount: r.onlineCount, refetch: !replaying });
        return;
      }
      case 'resync':
        if (!r) return;
        for (const h of r.handlers) h.ready?.({ online: [...r.online], onlineCount: r.onlineCount, refetch: true });
        return;
      case 'event': {
        if (!r) return;
        const seq = f.seq ?? 0;
        if (seq > 0) {
          if (seq <= r.seq) return; // already delivered
          const gap = r.seq >= 0 && seq > r.seq + 1;
          r.seq = seq;
          if (gap) {
            for (const h of r.handlers) h.ready?.({ online: [...r.online], onlineCount: r.onlineCount, refetch: true });
          }
        } else if (f.type === 'presence') {
          const d = f.data as { joined?: number[]; left?: number[] };
          const set = new Set(r.online);
          for (const id of d.joined ?? []) set.add(id);
          for (const id of d.left ?? []) set.delete(id);
          r.online = [...set];
          r.onlineCount = set.size;
        }
        if (f.type === 'session.revoked' && r.name.startsWith('user:')) {
          const reason = (f.data as { reason?: unknown } | undefined)?.reason;
          if (typeof reason === 'string') this.revoked = { reason, at: Date.now() };
        }
        const e: RoomEvent = { room: r.name, seq, type: f.type ?? '', data: f.data, ts: f.ts };
        for (const h of r.handlers) h.event(e);
        return;
      }
      case 'error':
        if (r && f.room) {
          if (f.code === 'rate_limited') return;
          r.since = null;
          if (f.code === 'unavailable') {
            // The server could not read the room's history: ask again.
            setTimeout(() => r.handlers.size > 0 && !r.subscribed && this.sendSubscribe(r), 2000);
            return;
          }
          for (const h of r.handlers) h.error?.(f.code ?? 'error', f.message ?? '');
        }
        return;
    }
  }
}

function wsURL(): string {
  return (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/api/ws';
}

let endedHandler: (reason: string) => void = () => {};
let checkHandler: () => Promise<boolean> = async () => true;

/** The app's one connection. */
export const realtime = new Realtime(
  wsURL,
  (reason) => endedHandler(reason),
  () => checkHandler(),
);

export function onSessionEnded(ended: (reason: string) => void, check: () => Promise<boolean>): void {
  endedHandler = ended;
  checkHandler = check;
}
