// Unit tests of the catalog pages' pure rules (src/catalog.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  count,
  durationInput,
  moneyInput,
  optionalCount,
  parseDuration,
  parseMoney,
  purchaseRefusal,
  rfc3339ToLocal,
  localToRFC3339,
  ruleText,
  serialText,
  soldOut,
  supplyText,
} from '../src/catalog';

test('parseMoney: decimal text to whole minor units, never through a float', () => {
  assert.equal(parseMoney('19.99'), 1999);
  assert.equal(parseMoney('19'), 1900);
  assert.equal(parseMoney('19.9'), 1990);
  assert.equal(parseMoney('0.07'), 7);
  assert.equal(parseMoney('4,50'), 450);
  assert.equal(parseMoney(' 12.30 '), 1230);
  assert.equal(parseMoney(''), 0);
  // 0.29 * 100 is 28.999999999999996 in floating point.
  assert.equal(parseMoney('0.29'), 29);
  for (const bad of ['1.999', '-5', 'abc', '1e3', '.5', '12.']) assert.equal(parseMoney(bad), undefined, bad);
});

test('moneyInput: the inverse of parseMoney', () => {
  for (const cents of [0, 7, 29, 450, 1900, 1999, 100_000_000]) assert.equal(parseMoney(moneyInput(cents)), cents);
  assert.equal(moneyInput(1999), '19.99');
  assert.equal(moneyInput(1900), '19.00');
});

test('parseDuration: minutes, m:ss and h:mm:ss', () => {
  assert.equal(parseDuration(''), 0);
  assert.equal(parseDuration('12'), 720);
  assert.equal(parseDuration('12:30'), 750);
  assert.equal(parseDuration('1:02:05'), 3725);
  assert.equal(parseDuration('0:45'), 45);
  for (const bad of ['12:60', '1:60:00', '1:2', 'ten', '-3', '12.5']) assert.equal(parseDuration(bad), undefined, bad);
  for (const sec of [45, 300, 750, 3725]) assert.equal(parseDuration(durationInput(sec)), sec);
  assert.equal(durationInput(0), '');
});

test('optionalCount and count: empty is null (or 0), else whole numbers only', () => {
  assert.equal(optionalCount(''), null);
  assert.equal(optionalCount(' 2 '), 2);
  assert.equal(optionalCount('2.5'), undefined);
  assert.equal(optionalCount('-1'), undefined);
  assert.equal(count(''), 0);
  assert.equal(count('7'), 7);
  assert.equal(count('x'), undefined);
});

test('rfc3339ToLocal and localToRFC3339 round-trip a minute', () => {
  const iso = '2027-03-04T05:06:00.000Z';
  assert.equal(localToRFC3339(rfc3339ToLocal(iso)), iso);
  assert.equal(localToRFC3339(''), '');
  assert.equal(rfc3339ToLocal('not a time'), '');
});

test('ruleText: what earns an achievement', () => {
  assert.equal(ruleText(null), 'Granted by hand');
  assert.equal(ruleText(undefined), 'Granted by hand');
  assert.equal(ruleText({ kind: 'messages', count: 1000 }), '1,000 channel messages posted');
  assert.equal(ruleText({ kind: 'level', count: 5 }), 'Reach level 5');
  assert.equal(ruleText({ kind: 'shouts', count: 1 }), '1 shout posted');
  assert.equal(ruleText({ kind: 'mixes', count: 3 }), '3 mixes published');
});

test('supplyText, soldOut and serialText', () => {
  assert.equal(supplyText({ supply: null, remaining: null }), 'Unlimited');
  assert.equal(supplyText({ supply: 2, remaining: 1 }), '1 of 2 left');
  assert.equal(supplyText({ supply: 2, remaining: 0 }), 'Sold out (all 2 claimed)');
  assert.equal(soldOut({ supply: 2, remaining: 0 }), true);
  assert.equal(soldOut({ supply: 2, remaining: 1 }), false);
  assert.equal(soldOut({ supply: null, remaining: null }), false);
  assert.equal(serialText(1, 2), '#1 of 2');
  assert.equal(serialText(7, null), '#7');
});

test('purchaseRefusal: each refusal in words, saying nothing was charged', () => {
  const c = { name: 'Gold vinyl', priceCredits: 50, supply: 2 };
  assert.equal(
    purchaseRefusal({ status: 409, code: 'insufficient_funds', message: 'insufficient funds' }, c, 20),
    'Not enough credits: Gold vinyl costs 50 credits and you have 20 credits. Nothing was charged.',
  );
  assert.equal(purchaseRefusal({ status: 402, code: 'payment_required', message: '' }, c, null), 'Not enough credits: Gold vinyl costs 50 credits. Nothing was charged.');
  assert.equal(purchaseRefusal({ status: 409, code: 'sold_out', message: '' }, c, 100), 'Sold out: all 2 are taken. Nothing was charged.');
  assert.equal(purchaseRefusal({ status: 409, code: 'already_owned', message: '' }, c, 100), 'You hold Gold vinyl already: one each. Nothing was charged.');
  assert.equal(purchaseRefusal({ status: 422, code: 'validation_failed', message: 'x' }, c, 100), 'Gold vinyl is not for sale.');
  assert.equal(purchaseRefusal({ status: 404, code: 'not_found', message: 'Collectible not found' }, c, 100), 'Collectible not found');
});
