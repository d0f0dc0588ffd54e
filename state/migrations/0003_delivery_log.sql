-- The delivery log every sink keeps (agents/sinks/delivery.py): one row per (sink, event id),
-- the unique key that makes an effect outside happen at most once per event. A row is
-- `pending` before the channel is called and `done` after it answered; on start every
-- `pending` row is settled by asking the channel before anything new is sent. `shadowed`
-- rows hold what shadow mode would have sent; `dead_lettered` rows what the channel refused.
CREATE TABLE delivery_log (
    sink                text        NOT NULL,
    event_id            text        NOT NULL,
    oms_order_id        text        NOT NULL,
    seq                 bigint      NOT NULL,
    state               text        NOT NULL
        CHECK (state IN ('pending', 'done', 'shadowed', 'dead_lettered')),
    mode                text        NOT NULL CHECK (mode IN ('shadow', 'write')),
    -- The exact request or message (a notification's holds the customer's contact): NULL
    -- once `request_expires_at` has passed (`prune`); the row itself lives until `expires_at`.
    request             bytea,
    summary             text        NOT NULL DEFAULT '',  -- what it does, no personal data
    response            text        NOT NULL DEFAULT '',  -- status and a bounded excerpt
    attempts            integer     NOT NULL DEFAULT 0,
    occurred_at         timestamptz NOT NULL,  -- the status event's time (latency)
    created_at          timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL,
    request_expires_at  timestamptz NOT NULL,
    expires_at          timestamptz NOT NULL,
    PRIMARY KEY (sink, event_id),
    CHECK (request_expires_at <= expires_at)
);
-- Start-up settles a sink's pending rows; per-order ordering asks for an order's open ones.
CREATE INDEX delivery_log_open ON delivery_log (sink, oms_order_id, seq)
    WHERE state = 'pending';
CREATE INDEX delivery_log_by_order ON delivery_log (oms_order_id);
CREATE INDEX delivery_log_shadowed ON delivery_log (created_at) WHERE state = 'shadowed';
CREATE INDEX delivery_log_expiry ON delivery_log (expires_at);
