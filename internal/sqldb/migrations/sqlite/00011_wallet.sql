-- +goose Up
-- The wallet ledger (double entry, in credits). An account is a user's
-- wallet ('wallet'), a user's debt to the platform ('receivable': what a
-- refund could not take back from a spent wallet, kept negative), or one of
-- the two system accounts seeded below: platform revenue and Stripe
-- clearing (the outside world: it goes negative as credits are sold).
-- balance is kept by the same transaction that writes the postings; a
-- wallet's never goes below zero (the debit is a conditional UPDATE, and the
-- CHECK below is the last line).
CREATE TABLE wallet_accounts (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    kind       TEXT    NOT NULL,
    user_id    INTEGER REFERENCES users (id),
    balance    INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    CHECK (kind IN ('wallet', 'receivable', 'revenue', 'clearing')),
    CHECK (kind <> 'wallet' OR balance >= 0)
);
CREATE UNIQUE INDEX uq_wallet_accounts_user_kind ON wallet_accounts (user_id, kind);
INSERT INTO wallet_accounts (id, kind, user_id, balance, created_at) VALUES (1, 'revenue', NULL, 0, 0), (2, 'clearing', NULL, 0, 0);

-- A transaction is never updated or deleted; a correction is a new one.
-- kind: topup, tip, purchase, refund, adjustment. ref names what it is about
-- (a Stripe payment, a collectible, a course), memo is the tip's note or the
-- adjustment's reason.
CREATE TABLE wallet_transactions (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    kind       TEXT    NOT NULL,
    ref        TEXT    NOT NULL DEFAULT '',
    memo       TEXT    NOT NULL DEFAULT '',
    actor_id   INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
);

-- The postings of a transaction sum to zero. kind is what the wallet's
-- owner sees (tip_sent, tip_received, topup, purchase, refund, adjustment),
-- counterparty the other user of a tip (0: none), balance_after the
-- account's balance right after this posting.
CREATE TABLE wallet_postings (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    tx_id         INTEGER NOT NULL REFERENCES wallet_transactions (id),
    account_id    INTEGER NOT NULL REFERENCES wallet_accounts (id),
    amount        INTEGER NOT NULL,
    balance_after INTEGER NOT NULL,
    kind          TEXT    NOT NULL,
    counterparty  INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL
);
-- GET /api/wallet/transactions pages an account's postings newest first.
CREATE INDEX idx_wallet_postings_account ON wallet_postings (account_id, tx_id);
CREATE INDEX idx_wallet_postings_tx ON wallet_postings (tx_id);

-- Idempotency keys of wallet writes, per user, kept 24 h: the request's
-- hash and the first response, written in the same transaction as the
-- write's effect.
CREATE TABLE idempotency_keys (
    user_id      INTEGER NOT NULL,
    idem_key     TEXT    NOT NULL,
    request_hash TEXT    NOT NULL,
    status       INTEGER NOT NULL,
    body         TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (user_id, idem_key)
);
CREATE INDEX idx_idempotency_keys_created ON idempotency_keys (created_at);

-- Stripe events applied, each recorded in the transaction of its effect.
CREATE TABLE stripe_events (
    id          TEXT    NOT NULL PRIMARY KEY,
    type        TEXT    NOT NULL,
    received_at INTEGER NOT NULL
);

-- Completed Checkout payments: what each granted, so a refund can take
-- back what was paid for.
CREATE TABLE stripe_payments (
    payment_intent TEXT    NOT NULL PRIMARY KEY,
    session_id     TEXT    NOT NULL,
    user_id        INTEGER NOT NULL REFERENCES users (id),
    item           TEXT    NOT NULL,
    pack           TEXT    NOT NULL DEFAULT '',
    course_id      INTEGER NOT NULL DEFAULT 0,
    credits        INTEGER NOT NULL DEFAULT 0,
    amount_cents   INTEGER NOT NULL,
    reversed       INTEGER NOT NULL DEFAULT 0, -- credits taken back so far
    refunded_cents INTEGER NOT NULL DEFAULT 0,
    created_at     INTEGER NOT NULL
);
CREATE UNIQUE INDEX uq_stripe_payments_session ON stripe_payments (session_id);

-- +goose Down
DROP TABLE stripe_payments;
DROP TABLE stripe_events;
DROP TABLE idempotency_keys;
DROP TABLE wallet_postings;
DROP TABLE wallet_transactions;
DROP TABLE wallet_accounts;
