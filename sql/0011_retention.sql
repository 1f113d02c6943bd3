-- Retention (respite.retention): the purge deletes the oldest rows of each kind first, a batch
-- at a time, along an index of the kind's age. Idempotency keys have theirs since 0001
-- (idempotency_keys_created); a token is dead from its expiry or revocation, the earlier.
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX webhook_attempts_started ON webhook_attempts (started_at);
CREATE INDEX tokens_dead_since ON tokens ((least(expires_at, revoked_at)));
