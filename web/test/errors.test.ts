// Unit tests of how refusals are worded (src/errors.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { codePoints, fieldSentence, fieldWording, formMessage, friendly, required, transient503, verifyFirst } from '../src/errors';

test('friendly: a 503 with its own code says its own message', () => {
  assert.equal(friendly(503, 'payments_disabled', 'payments are not configured', 0), 'Payments are not configured');
  assert.equal(friendly(503, 'ai_disabled', 'AI is not configured on this server', 0), 'AI is not configured on this server');
  assert.equal(friendly(503, 'unavailable', 'database unavailable', 3), 'Plaza is unavailable for a moment. Try again in 3 s.');
  assert.equal(friendly(503, 'http_503', 'Service Unavailable', 0), 'Plaza is unavailable for a moment. Try again shortly.');
  assert.equal(friendly(503, 'overloaded', 'too busy', 2), 'Plaza is busy right now. Try again in 2 s.');
  assert.equal(friendly(500, 'internal_error', 'internal error', 0), 'Something went wrong on the server. internal error');
  assert.equal(friendly(409, 'conflict', 'a course with this slug exists', 0), 'A course with this slug exists');
});

test('transient503: only codes that mean "try later" are retried', () => {
  assert.ok(transient503('unavailable'));
  assert.ok(transient503('http_503'));
  assert.ok(!transient503('payments_disabled'));
  assert.ok(!transient503('ai_disabled'));
});

test('friendly: verification_required points to Settings, not to the API', () => {
  const m = friendly(403, 'verification_required', 'verify your email first: enter the code from the verification mail (POST /api/auth/signup-verification), or ask for a new one', 0);
  assert.equal(m, verifyFirst);
  assert.ok(!m.includes('/api/'));
  assert.ok(m.includes('Settings'));
});

test('formMessage: fields the form shows are pointed at, the others said', () => {
  const e = { status: 422, code: 'validation_failed', message: 'Some fields are invalid', fields: { title: 'is required' } };
  assert.equal(formMessage(e, new Set(['title'])), 'Please check the fields marked below.');
  // A form with no field for it (Admin → Users, the chat's boxes).
  assert.equal(formMessage(e, new Set()), 'Title is required.');
  assert.equal(
    formMessage({ ...e, fields: { id: 'you cannot ban yourself' } }, new Set()),
    'You cannot ban yourself.',
  );
  assert.equal(
    formMessage({ ...e, fields: { body: 'must be at most 4000 characters' } }, new Set()),
    'The message must be at most 4000 characters.',
  );
  // Some shown, some not: both.
  assert.equal(
    formMessage({ ...e, fields: { title: 'is required', durationSec: 'must be from 1 to 86400 seconds' } }, new Set(['title'])),
    'Please check the fields marked below. Duration sec must be from 1 to 86400 seconds.',
  );
  // Not a 422, or no fields: the message itself.
  assert.equal(formMessage({ status: 409, code: 'conflict', message: 'A course with this slug exists', fields: { slug: 'is taken' } }, new Set()), 'A course with this slug exists');
  assert.equal(formMessage({ ...e, fields: {} }, new Set()), 'Some fields are invalid');
});

test('fieldWording: the API wording becomes form wording', () => {
  assert.equal(fieldWording('must be an RFC 3339 time, e.g. 2026-05-01T20:00:00Z'), 'must be a date and time');
  assert.equal(fieldWording('must be an RFC 3339 time'), 'must be a date and time');
  assert.equal(fieldWording('must be a whole number from 1 to 100000, or null for unlimited'), 'must be a whole number from 1 to 100000, or empty for no limit');
  assert.equal(fieldWording('is required'), 'is required');
  assert.equal(fieldSentence('startsAt', 'must be an RFC 3339 time, e.g. 2026-05-01T20:00:00Z'), 'Starts at must be a date and time.');
  assert.equal(fieldSentence('unlock.level', 'must be a level from 1 to 100'), 'Level must be a level from 1 to 100.');
  assert.equal(fieldSentence('endsAt', 'an event lasts at most 31 days'), 'An event lasts at most 31 days.');
});

test('required: the empty ones, in the API wording', () => {
  assert.deepEqual(required({ title: ' ', startsAt: '', endsAt: '2026-05-01T20:00' }), { title: 'is required', startsAt: 'is required' });
  assert.deepEqual(required({ title: 'x' }), {});
});

test('codePoints: characters as the server counts them', () => {
  assert.equal(codePoints(''), 0);
  assert.equal(codePoints('hello'), 5);
  assert.equal(codePoints('🎉'), 1);
  assert.equal('🎉'.length, 2);
  assert.equal(codePoints('🎉'.repeat(145)), 145);
  assert.equal(codePoints('é'), 1);
});
