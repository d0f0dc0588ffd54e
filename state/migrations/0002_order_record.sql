-- What support and operations ask of an order beyond its status: the order as the channel
-- placed it (with the customer's contact, erasable), the allocations and why, the parcels'
-- costs and bundles, the open and closed holds and exceptions with who owns them, and each
-- location's stock per SKU. Personal data lives only in order_details' contact columns.

-- The order as placed, from orders.events (restricted). Written by OrderPlaced and moved by
-- OrderUpdated (`version` is the event's occurred_at; an older event never overwrites a newer
-- one). `orderstream db erase --customer EMAIL` nulls the contact columns and stamps
-- `erased_at`; a replayed event never writes them again once the row is erased.
CREATE TABLE order_details (
    oms_order_id          text        PRIMARY KEY,
    channel               text        NOT NULL,
    channel_order_id      text        NOT NULL,
    channel_order_name    text        NOT NULL DEFAULT '',
    placed_at             timestamptz NOT NULL,
    currency              text        NOT NULL,
    total_minor           bigint      NOT NULL,
    service_level         text        NOT NULL,
    ship_country          text        NOT NULL DEFAULT '',
    promised_ship_by      timestamptz,  -- the channel's cut-off (Delivery.cut_off)
    promised_delivery_by  timestamptz,  -- the channel's promise (Delivery.latest_delivery)
    customer_email        text,         -- lower case, as erasure matches it
    customer_name         text,
    customer_phone        text,
    shipping_address      jsonb,
    billing_address       jsonb,
    erased_at             timestamptz,
    version               timestamptz NOT NULL
);
CREATE INDEX order_details_by_email ON order_details (customer_email)
    WHERE customer_email IS NOT NULL;
CREATE INDEX order_details_by_placed ON order_details (placed_at);

-- Each allocation decision with its full explanation (per-location verdicts, costs and stock),
-- keyed by the status event's seq that carried it; from a restricted topic only.
CREATE TABLE allocation_explanations (
    oms_order_id  text        NOT NULL,
    seq           bigint      NOT NULL,
    decided_at    timestamptz NOT NULL,
    decided_by    text        NOT NULL,
    summary       text        NOT NULL,
    explanation   jsonb       NOT NULL,
    PRIMARY KEY (oms_order_id, seq)
);

-- A parcel's planned cost (minor units of `cost_currency`), its bundle key, and when it was
-- shipped and delivered as its carrier reported it.
ALTER TABLE shipments
    ADD COLUMN cost_minor    bigint,
    ADD COLUMN cost_currency text,
    ADD COLUMN bundle_key    text        NOT NULL DEFAULT '',
    ADD COLUMN shipped_at    timestamptz,
    ADD COLUMN delivered_at  timestamptz;

-- The highest version of each bundle (fulfilment.bundles): shipments of several orders that
-- one location ships as one parcel.
CREATE TABLE bundles (
    bundle_key     text        PRIMARY KEY,
    version        integer     NOT NULL,
    location       text        NOT NULL,
    carrier        text        NOT NULL DEFAULT '',
    request_ids    text[]      NOT NULL,
    oms_order_ids  text[]      NOT NULL,
    updated_at     timestamptz NOT NULL
);

-- A hold or exception on an order (`shipment_id` empty) or on one parcel: opened by the status
-- event of `opened_seq`, closed by the first later event that leaves that state. `owner_kind`
-- is location, team or channel; `owner` and `resolve_by` come from the exception rules.
CREATE TABLE order_exceptions (
    oms_order_id  text        NOT NULL,
    shipment_id   text        NOT NULL DEFAULT '',
    opened_seq    bigint      NOT NULL,
    kind          text        NOT NULL,  -- ON_HOLD, BACKORDERED, EXCEPTION, PARTIALLY_ALLOCATED
    reason        text        NOT NULL,
    owner_kind    text        NOT NULL,
    owner         text        NOT NULL,
    opened_at     timestamptz NOT NULL,
    resolve_by    timestamptz NOT NULL,
    closed_seq    bigint,
    closed_at     timestamptz,
    PRIMARY KEY (oms_order_id, shipment_id, opened_seq)
);
CREATE INDEX order_exceptions_open ON order_exceptions (kind, opened_at) WHERE closed_at IS NULL;

-- Each location's stock of a SKU as last reported on inventory.availability (or its restricted
-- successor). Records of one SKU share a partition, so `source_offset` only grows per row and
-- guards against a replay moving a row back.
CREATE TABLE stock_availability (
    sku            text        NOT NULL,
    location       text        NOT NULL,
    on_hand        bigint      NOT NULL,
    reserved       bigint      NOT NULL,
    safety_stock   bigint      NOT NULL,
    inbound        bigint      NOT NULL,
    atp            bigint      NOT NULL,
    source_offset  bigint      NOT NULL,
    updated_at     timestamptz NOT NULL,
    PRIMARY KEY (sku, location)
);
