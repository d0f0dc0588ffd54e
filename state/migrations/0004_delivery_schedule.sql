-- Notification sinks (agents/sinks/notify_sink.py): a message inside quiet hours is recorded
-- at once and sent no earlier than `not_before` (NULL: as soon as it can go); a message the
-- customer opted out of is recorded as `withheld` and never sent.
ALTER TABLE delivery_log ADD COLUMN not_before timestamptz;
ALTER TABLE delivery_log DROP CONSTRAINT delivery_log_state_check;
ALTER TABLE delivery_log ADD CONSTRAINT delivery_log_state_check
    CHECK (state IN ('pending', 'done', 'shadowed', 'dead_lettered', 'withheld'));
