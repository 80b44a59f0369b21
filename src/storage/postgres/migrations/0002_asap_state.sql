-- ASAP state stores (asap-wire §7): task state snapshots and agent usage events.
-- Snapshot data is `json`, not `jsonb`: it holds the JSON-safe encoding (src/state/json-safe.ts)
-- verbatim and is never queried inside, and jsonb would refuse strings containing \u0000 or a
-- lone surrogate, which SQLite stores. Metrics are validated integers, summed with jsonb operators.

CREATE TABLE asap_snapshots (
  task_id    text COLLATE "C" NOT NULL,
  version    integer NOT NULL,
  id         text COLLATE "C" NOT NULL,
  data       json NOT NULL,
  checkpoint boolean NOT NULL,
  created_at timestamptz NOT NULL,
  PRIMARY KEY (task_id, version)
);
-- state_restore names a snapshot by (task_id, snapshot id).
CREATE INDEX asap_snapshots_id ON asap_snapshots (task_id, id);

CREATE TABLE asap_usage_events (
  id          text COLLATE "C" PRIMARY KEY,
  task_id     text COLLATE "C" NOT NULL,
  agent_id    text NOT NULL,
  consumer_id text NOT NULL,
  metrics     jsonb NOT NULL,
  timestamp   timestamptz NOT NULL
);
CREATE INDEX asap_usage_events_agent ON asap_usage_events (agent_id, timestamp);
