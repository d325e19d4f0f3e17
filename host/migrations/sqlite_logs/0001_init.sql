-- Processed events for the embedded log store. The primary key makes a
-- replayed event a no-op (INSERT OR IGNORE); `body` is the event's public
-- JSON, the other columns exist to filter and sort.

CREATE TABLE logs (
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
    body TEXT NOT NULL,
    PRIMARY KEY (tenant_id, id)
) WITHOUT ROWID;
CREATE INDEX logs_time ON logs (tenant_id, time_ns, id);
CREATE INDEX logs_service ON logs (tenant_id, service, time_ns);
CREATE INDEX logs_fingerprint ON logs (tenant_id, fingerprint, time_ns);
