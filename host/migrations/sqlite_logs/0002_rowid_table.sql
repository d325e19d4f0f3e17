-- A rowid table instead of WITHOUT ROWID: rows carry the event's JSON body
-- (hundreds of bytes), and SQLite keeps WITHOUT ROWID tables efficient only
-- for small rows. The (tenant, id) key becomes a unique index, so a
-- replayed event is still a no-op (INSERT OR IGNORE).

CREATE TABLE logs_rowid (
    tenant_id TEXT NOT NULL,
    id TEXT NOT NULL,
    time_ns INTEGER NOT NULL,
    received_ns INTEGER NOT NULL,
    project TEXT,
    service TEXT,
    level TEXT,
    message TEXT NOT NULL,
    template TEXT,
    fingerprint INTEGER,
    pipeline TEXT NOT NULL,
    pipeline_version INTEGER NOT NULL,
    body TEXT NOT NULL
);
INSERT INTO logs_rowid SELECT tenant_id, id, time_ns, received_ns, project, service, level,
    message, template, fingerprint, pipeline, pipeline_version, body FROM logs;
DROP TABLE logs;
ALTER TABLE logs_rowid RENAME TO logs;
CREATE UNIQUE INDEX logs_key ON logs (tenant_id, id);
CREATE INDEX logs_time ON logs (tenant_id, time_ns, id);
CREATE INDEX logs_service ON logs (tenant_id, service, time_ns);
CREATE INDEX logs_fingerprint ON logs (tenant_id, fingerprint, time_ns);
