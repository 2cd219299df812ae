import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PlayReporter } from '../src/music';
import { duration } from '../src/format';

test('PlayReporter: one report per listen', async () => {
  let calls = 0;
  const r = new PlayReporter(async () => void calls++);
  assert.equal(r.playing(), true);
  assert.equal(r.playing(), false, 'resuming after a pause is the same listen');
  assert.equal(r.playing(), false);
  r.ended();
  assert.equal(r.playing(), true, 'playing again after the end is a new listen');
  await Promise.resolve();
  assert.equal(calls, 2);
});

test('PlayReporter: a report that failed is tried again on the next start', async () => {
  let calls = 0;
  const r = new PlayReporter(async () => {
    calls++;
    if (calls === 1) throw new Error('offline');
  });
  r.playing();
  await new Promise((res) => setTimeout(res, 0));
  assert.equal(r.playing(), true);
  assert.equal(calls, 2);
});

test('duration', () => {
  assert.equal(duration(0), '0:00');
  assert.equal(duration(125), '2:05');
  assert.equal(duration(3725), '1:02:05');
});
