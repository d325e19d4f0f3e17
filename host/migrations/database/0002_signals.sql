-- Signals: daily counts that outlive the raw logs ("logs are transient,
-- signals are persistent"). Portable SQL, as 0001.

-- Events per (tenant, project, UTC day) by dimension: `total`, `level`,
-- `service`, `fingerprint` (hex); `item` is the level, service or
-- fingerprint ('' for `total`).
CREATE TABLE signal_counts (
    tenant_id TEXT NOT NULL,
    project TEXT NOT NULL,
    day BIGINT NOT NULL,
    dimension TEXT NOT NULL,
    item TEXT NOT NULL,
    count BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, project, day, dimension, item)
);

-- The first day each fingerprint was seen, for "new fingerprints".
CREATE TABLE signal_fingerprints (
    tenant_id TEXT NOT NULL,
    project TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    first_day BIGINT NOT NULL,
    template TEXT,
    PRIMARY KEY (tenant_id, project, fingerprint)
);
