-- The W3C traceparent a task's steps continue (OpenTelemetry tracing, SPEC §7): the span that
-- created the task. NULL when tracing was off at creation; steps then start no trace of their own.
-- Nullable without a default: PostgreSQL adds the column without rewriting the table.
ALTER TABLE tasks ADD COLUMN traceparent text;
