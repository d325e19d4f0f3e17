-- Tenants, API keys, incidents and dead letters. Portable SQL: the same
-- migration runs on SQLite (embedded) and PostgreSQL (production).
-- Every table but `tenants` carries tenant_id, and every query filters by it.

CREATE TABLE tenants (
    name TEXT PRIMARY KEY,
    created_ns BIGINT NOT NULL
);

-- Keys are stored as SHA-256 of the plaintext only.
CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (name),
    label TEXT NOT NULL,
    key_hash TEXT NOT NULL UNIQUE,
    created_ns BIGINT NOT NULL,
    revoked_ns BIGINT
);
CREATE INDEX api_keys_tenant ON api_keys (tenant_id);

-- One incident per (tenant, group); a resolved one is reopened when its
-- group alerts again. Fingerprints are u64 stored as their i64 bit pattern.
CREATE TABLE incidents (
    tenant_id TEXT NOT NULL,
    id TEXT NOT NULL,
    group_key TEXT NOT NULL,
    fingerprint BIGINT,
    rule TEXT NOT NULL,
    title TEXT NOT NULL,
    severity TEXT NOT NULL,
    service TEXT,
    status TEXT NOT NULL,
    assignee TEXT,
    alert_count BIGINT NOT NULL,
    first_seen_ns BIGINT NOT NULL,
    last_seen_ns BIGINT NOT NULL,
    sample_event_ids TEXT NOT NULL,
    reopened BIGINT NOT NULL,
    resolved_at_ns BIGINT,
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX incidents_group ON incidents (tenant_id, group_key);
CREATE INDEX incidents_recent ON incidents (tenant_id, last_seen_ns, id);

CREATE TABLE dead_letters (
    tenant_id TEXT NOT NULL,
    id TEXT NOT NULL,
    pipeline TEXT NOT NULL,
    pipeline_version BIGINT NOT NULL,
    step TEXT NOT NULL,
    plugin TEXT NOT NULL,
    plugin_version TEXT NOT NULL,
    plugin_sha256 TEXT NOT NULL,
    code TEXT NOT NULL,
    error TEXT NOT NULL,
    event TEXT NOT NULL,
    failed_at_ns BIGINT NOT NULL,
    replayed_at_ns BIGINT,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX dead_letters_recent ON dead_letters (tenant_id, failed_at_ns, id);
CREATE INDEX dead_letters_all ON dead_letters (failed_at_ns, id);
