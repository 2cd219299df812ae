// Unit tests of the pages' pure rules: npm test (esbuild bundles, node --test runs).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { credits, defaultLevels, IntentKey, mergeTop, uncertain, xpBar } from '../src/gamify';

test('xpBar: within a level, from its threshold to the next', () => {
  assert.deepEqual(xpBar(10, 2, 20), { from: 5, to: 20, fraction: 5 / 15 });
  assert.deepEqual(xpBar(0, 1, 5), { from: 0, to: 5, fraction: 0 });
  assert.deepEqual(xpBar(19, 2, 20).fraction, 14 / 15);
});

test('xpBar: the top level is full', () => {
  assert.deepEqual(xpBar(40000, 9, null), { from: 33015, to: null, fraction: 1 });
});

test('xpBar: thresholds that disagree with the server start the bar at 0', () => {
  // A server with PLAZA_LEVELS=0,100,300: level 2 ends at 300, which the defaults do not know.
  assert.deepEqual(xpBar(150, 2, 300), { from: 0, to: 300, fraction: 0.5 });
  assert.equal(xpBar(150, 2, 300, [0, 100, 300]).from, 100);
});

test('xpBar: never outside 0..1', () => {
  assert.equal(xpBar(-3, 1, 5).fraction, 0);
  assert.equal(xpBar(9, 1, 5).fraction, 1);
  assert.equal(defaultLevels.length, 9);
});

const row = (rank: number, id: number, xp: number) => ({ rank, user: { id }, xp });

test('mergeTop: the live top 10 replaces those ranks and keeps the rest', () => {
  const page = [row(1, 1, 50), row(2, 2, 40), row(3, 3, 30), row(4, 4, 20)];
  // User 4 overtakes everyone; the frame carries ranks 1-3.
  const got = mergeTop(page, [row(2, 1, 50), row(1, 4, 60), row(3, 2, 40)]);
  assert.deepEqual(
    got.map((r) => [r.rank, r.user.id]),
    [
      [1, 4],
      [2, 1],
      [3, 2],
    ],
  );
  // An empty frame changes nothing.
  assert.equal(mergeTop(page, []), page);
});

test('mergeTop: rows below the frame stay', () => {
  const page = [row(1, 1, 50), row(2, 2, 40), row(3, 3, 30)];
  const got = mergeTop(page, [row(1, 2, 55), row(2, 1, 50)]);
  assert.deepEqual(
    got.map((r) => r.user.id),
    [2, 1, 3],
  );
});

test('IntentKey: same body, same key until settled; a new body or a settle makes a new one', () => {
  let n = 0;
  const k = new IntentKey(() => 'k' + ++n);
  const a = k.for({ to: 2, amount: 5 });
  assert.equal(k.for({ to: 2, amount: 5 }), a, 'a retry of the same tip reuses the key');
  assert.notEqual(k.for({ to: 2, amount: 6 }), a, 'a changed tip is a new intent');
  const b = k.for({ to: 2, amount: 6 });
  k.settle();
  assert.notEqual(k.for({ to: 2, amount: 6 }), b, 'after a definite answer the next tip is new');
});

test('uncertain: which failures may have been applied', () => {
  for (const s of [0, 429, 500, 502, 503]) assert.equal(uncertain(s), true, String(s));
  for (const s of [400, 402, 403, 404, 409, 422]) assert.equal(uncertain(s), false, String(s));
});

test('credits', () => {
  assert.equal(credits(1), '1 credit');
  assert.equal(credits(1200), '1,200 credits');
  assert.equal(credits(-1), '-1 credit');
});
