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
    id         BIGINT      NOT NULL AUTO_INCREMENT PRIMARY KEY,
    kind       VARCHAR(16) NOT NULL,
    user_id    BIGINT      NULL,
    balance    BIGINT      NOT NULL DEFAULT 0,
    created_at BIGINT      NOT NULL,
    UNIQUE KEY uq_wallet_accounts_user_kind (user_id, kind),
    CONSTRAINT fk_wallet_accounts_user FOREIGN KEY (user_id) REFERENCES users (id),
    CONSTRAINT ck_wallet_accounts_kind CHECK (kind IN ('wallet', 'receivable', 'revenue', 'clearing')),
    CONSTRAINT ck_wallet_accounts_balance CHECK (kind <> 'wallet' OR balance >= 0)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
INSERT INTO wallet_accounts (id, kind, user_id, balance, created_at) VALUES (1, 'revenue', NULL, 0, 0), (2, 'clearing', NULL, 0, 0);

-- A transaction is never updated or deleted; a correction is a new one.
CREATE TABLE wallet_transactions (
    id         BIGINT       NOT NULL AUTO_INCREMENT PRIMARY KEY,
    kind       VARCHAR(16)  NOT NULL,
    ref        VARCHAR(255) NOT NULL DEFAULT '',
    memo       TEXT         NOT NULL,
    actor_id   BIGINT       NOT NULL DEFAULT 0,
    created_at BIGINT       NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- The postings of a transaction sum to zero; see the SQLite migration.
CREATE TABLE wallet_postings (
    id            BIGINT      NOT NULL AUTO_INCREMENT PRIMARY KEY,
    tx_id         BIGINT      NOT NULL,
    account_id    BIGINT      NOT NULL,
    amount        BIGINT      NOT NULL,
    balance_after BIGINT      NOT NULL,
    kind          VARCHAR(16) NOT NULL,
    counterparty  BIGINT      NOT NULL DEFAULT 0,
    created_at    BIGINT      NOT NULL,
    KEY idx_wallet_postings_account (account_id, tx_id),
    KEY idx_wallet_postings_tx (tx_id),
    CONSTRAINT fk_wallet_postings_tx FOREIGN KEY (tx_id) REFERENCES wallet_transactions (id),
    CONSTRAINT fk_wallet_postings_account FOREIGN KEY (account_id) REFERENCES wallet_accounts (id)
) ENGINE=InnoDB;

-- Idempotency keys of wallet writes, per user, kept 24 h.
CREATE TABLE idempotency_keys (
    user_id      BIGINT       NOT NULL,
    idem_key     VARCHAR(255) NOT NULL,
    request_hash CHAR(64)     NOT NULL,
    status       INT          NOT NULL,
    body         MEDIUMTEXT   NOT NULL,
    created_at   BIGINT       NOT NULL,
    PRIMARY KEY (user_id, idem_key),
    KEY idx_idempotency_keys_created (created_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Stripe events applied, each recorded in the transaction of its effect.
CREATE TABLE stripe_events (
    id          VARCHAR(255) NOT NULL PRIMARY KEY,
    type        VARCHAR(128) NOT NULL,
    received_at BIGINT       NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Completed Checkout payments: what each granted, so a refund can take
-- back what was paid for.
CREATE TABLE stripe_payments (
    payment_intent VARCHAR(255) NOT NULL PRIMARY KEY,
    session_id     VARCHAR(255) NOT NULL,
    user_id        BIGINT       NOT NULL,
    item           VARCHAR(16)  NOT NULL,
    pack           VARCHAR(64)  NOT NULL DEFAULT '',
    course_id      BIGINT       NOT NULL DEFAULT 0,
    credits        BIGINT       NOT NULL DEFAULT 0,
    amount_cents   BIGINT       NOT NULL,
    reversed       BIGINT       NOT NULL DEFAULT 0,
    refunded_cents BIGINT       NOT NULL DEFAULT 0,
    created_at     BIGINT       NOT NULL,
    UNIQUE KEY uq_stripe_payments_session (session_id),
    CONSTRAINT fk_stripe_payments_user FOREIGN KEY (user_id) REFERENCES users (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- +goose Down
DROP TABLE stripe_payments;
DROP TABLE stripe_events;
DROP TABLE idempotency_keys;
DROP TABLE wallet_postings;
DROP TABLE wallet_transactions;
DROP TABLE wallet_accounts;
