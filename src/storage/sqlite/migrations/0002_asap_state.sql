-- ASAP state stores (asap-wire §7): task state snapshots and agent usage events. Times are epoch
-- milliseconds, so range queries compare integers exactly; data holds the JSON-safe encoding
-- (src/state/json-safe.ts) as text.

CREATE TABLE asap_snapshots (
  task_id    TEXT NOT NULL,
  version    INTEGER NOT NULL,
  id         TEXT NOT NULL,
  data       TEXT NOT NULL,
  checkpoint INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (task_id, version)
) WITHOUT ROWID;
-- state_restore names a snapshot by (task_id, snapshot id).
CREATE INDEX asap_snapshots_id ON asap_snapshots (task_id, id);

CREATE TABLE asap_usage_events (
  id          TEXT PRIMARY KEY,
  task_id     TEXT NOT NULL,
  agent_id    TEXT NOT NULL,
  consumer_id TEXT NOT NULL,
  metrics     TEXT NOT NULL,
  timestamp   INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX asap_usage_events_agent ON asap_usage_events (agent_id, timestamp);
