-- The event store's first tables: every status event, the current view of each order, and
-- each shipment as last reported. Events are unique by event_id ({oms_order_id}:{seq}), so a
-- redelivered record inserts nothing; the views move only on a higher seq.

CREATE TABLE order_status_events (
    event_id      text        PRIMARY KEY,
    oms_order_id  text        NOT NULL,
    seq           bigint      NOT NULL,
    status        text        NOT NULL,
    previous      text,
    occurred_at   timestamptz NOT NULL,
    channel       text        NOT NULL,
    reason        text        NOT NULL DEFAULT '',
    event         jsonb       NOT NULL,
    stored_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX order_status_events_by_order ON order_status_events (oms_order_id, seq);

CREATE TABLE orders (
    oms_order_id  text        PRIMARY KEY,
    channel       text        NOT NULL,
    status        text        NOT NULL,
    seq           bigint      NOT NULL,
    updated_at    timestamptz NOT NULL
);
CREATE INDEX orders_by_status ON orders (status, updated_at);

CREATE TABLE shipments (
    oms_order_id    text        NOT NULL,
    shipment_id     text        NOT NULL,
    location        text        NOT NULL,
    carrier         text        NOT NULL DEFAULT '',
    tracking_number text        NOT NULL DEFAULT '',
    tracking_url    text        NOT NULL DEFAULT '',
    status          text        NOT NULL,
    ship_date       date,
    eta             date,
    seq             bigint      NOT NULL,
    updated_at      timestamptz NOT NULL,
    PRIMARY KEY (oms_order_id, shipment_id)
);
CREATE INDEX shipments_by_tracking ON shipments (carrier, tracking_number)
    WHERE tracking_number <> '';
