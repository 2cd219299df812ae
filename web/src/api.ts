// The HTTP client of the app: JSON in and out, Plaza's error format turned
// into ApiError, and the rules for 401, 429 and 503 in one place (their
// wording is errors.ts's).
//
// Authentication is the session cookie that POST /api/auth/login sets
// (HttpOnly, SameSite=Lax): script never sees the token, so a bug that let
// markup run could not carry it away, and the same cookie opens the
// WebSocket. The token in the login response is deliberately dropped.

import { friendly, transient503 } from './errors';
import { announce } from './notice';

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly fields: Record<string, string>;
  /** Seconds, from Retry-After. */
  readonly retryAfter: number;
  /** What the error body says beside code and message (lockedReason, priceCents...). */
  readonly details: Record<string, unknown>;

  constructor(status: number, code: string, message: string, fields: Record<string, string> = {}, retryAfter = 0, details: Record<string, unknown> = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.fields = fields;
    this.retryAfter = retryAfter;
    this.details = details;
  }
}

export interface RequestOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  body?: unknown;
  form?: FormData;
  signal?: AbortSignal;
  /** Retry a 429 or 503 after Retry-After; default: GETs only (they are idempotent). */
  retry?: boolean;
  /** Sent as Idempotency-Key (wallet and payment writes). */
  idempotencyKey?: string;
}

let unauthorized: () => void = () => {};

/** Called when the server says the session is gone (401 unauthorized). */
export function onUnauthorized(fn: () => void): void {
  unauthorized = fn;
}

const maxRetries = 3;
const maxWait = 10;

export async function api<T>(path: string, o: RequestOptions = {}): Promise<T> {
  const method = o.method ?? 'GET';
  const retry = o.retry ?? method === 'GET';
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (o.idempotencyKey) headers['Idempotency-Key'] = o.idempotencyKey;
  let body: BodyInit | undefined;
  if (o.form) {
    body = o.form;
  } else if (o.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(o.body);
  }
  for (let attempt = 0; ; attempt++) {
    let res: Response;
    try {
      res = await fetch(path, { method, headers, body, credentials: 'same-origin', signal: o.signal ?? null });
    } catch (e) {
      if (o.signal?.aborted) throw e;
      throw new ApiError(0, 'network', 'Cannot reach Plaza. Check your connection and try again.');
    }
    if (res.ok) {
      if (res.status === 204) return undefined as T;
      return (await res.json()) as T;
    }
    const err = await errorOf(res);
    // A 503 that names its cause (payments_disabled, ai_disabled) is an
    // answer, not a hiccup: retrying never helps.
    const transient = res.status === 429 || (res.status === 503 && (transient503(err.code) || err.code === 'overloaded'));
    if (transient && retry && attempt < maxRetries) {
      const wait = Math.min(Math.max(err.retryAfter, 1), maxWait);
      announce(`${err.message} Retrying in ${wait} s…`);
      await sleep(wait * 1000, o.signal);
      continue;
    }
    if (res.status === 401 && err.code === 'unauthorized') unauthorized();
    throw err;
  }
}

async function errorOf(res: Response): Promise<ApiError> {
  const retryAfter = Number(res.headers.get('Retry-After')) || 0;
  let code = 'http_' + res.status;
  let message = res.statusText || 'The request failed.';
  let fields: Record<string, string> = {};
  let details: Record<string, unknown> = {};
  try {
    const b = (await res.json()) as { error?: { code?: string; message?: string; fields?: Record<string, string> } & Record<string, unknown> };
    code = b.error?.code ?? code;
    message = b.error?.message ?? message;
    fields = b.error?.fields ?? {};
    details = b.error ?? {};
  } catch {
    // not JSON: keep the status line
  }
  return new ApiError(res.status, code, friendly(res.status, code, message, retryAfter), fields, retryAfter, details);
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(t);
      reject(signal.reason);
    });
  });
}

/** "before" and "limit" as a query string. */
export function pageQuery(before?: string, limit = 50): string {
  const q = new URLSearchParams({ limit: String(limit) });
  if (before) q.set('before', before);
  return q.toString();
}

/**
 * The server has no such API (yet): a 404 for the route itself ("no route
 * /api/..."), not for a missing record, or a 405 where only another method
 * of the path exists.
 */
export function missingAPI(e: unknown): boolean {
  return e instanceof ApiError && ((e.status === 404 && /^no route /i.test(e.message)) || e.status === 405);
}

/** A fresh Idempotency-Key: one per intended write, reused when that write is retried. */
export function newIdempotencyKey(): string {
  return crypto.randomUUID();
}
