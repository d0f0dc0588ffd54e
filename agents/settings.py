"""Settings: every knob from the environment (prefix `ORDERSTREAM_`), built once, frozen.

`deploy/.env.example` lists each setting with its default; `load_settings()` is called by
the composition root only, never at import time.
"""

from __future__ import annotations

from datetime import time, timedelta
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from orderstream.codecs.limits import MAX_ORDER_LINES
from orderstream.streams.delivery import Lifetimes, SinkMode, mode_of
from orderstream.streams.notifications import (
    ALL_KINDS,
    Medium,
    MessageKind,
    NotificationRules,
    QuietHours,
)

from .rocksdb_memory import Budget
from .topics import TopicRetention

MIN_BUNDLE_SECRET = 16
"""Characters a bundle key secret has at least."""
MIN_WEBHOOK_SECRET = 16
"""Characters the notification webhook's signing secret has at least."""


class Settings(BaseSettings):
    """The worker's configuration; see `deploy/.env.example` for each field's meaning."""

    # An empty variable (`ORDERSTREAM_RULES_PATH=` as in .env.example) means "not set".
    model_config = SettingsConfigDict(
        env_prefix="ORDERSTREAM_", frozen=True, extra="ignore", env_ignore_empty=True
    )

    # Services.
    kafka_bootstrap: str = "127.0.0.1:9092"
    # How long a starting worker tries to reach the broker before it exits (code 2).
    broker_wait_s: float = Field(default=30.0, ge=0)
    postgres_dsn: str = "postgresql://postgres@127.0.0.1:5432/orderstream"
    redis_url: str = "redis://127.0.0.1:6379/0"

    # Event store writer: records per fetch, written in one transaction; its /metrics port
    # (on `web_bind`; 0: any free port, logged); who owns which exception (default: the
    # sample in agents/samples/exception_rules.yaml).
    store_batch_max: int = Field(default=1000, ge=1)
    store_metrics_port: int = Field(default=6067, ge=0, le=65535)
    store_exception_rules_path: Path | None = None

    # The API (`orderstream api`): where it listens, and the bearer token every request but
    # /health and /openapi.json must carry. It serves customers' contact data: it refuses to
    # start without a token, and binds loopback unless told otherwise.
    api_host: str = "127.0.0.1"
    api_port: int = Field(default=8080, ge=0, le=65535)
    api_token: SecretStr | None = None
    # Connections the API holds to the event store at most.
    api_pool_max: int = Field(default=4, ge=1)

    # Worker.
    app_id: str = "orderstream"
    data_dir: Path = Path(".orderstream/data")
    # The web server (/metrics, /health, /ready) listens on `web_bind`; `web_host` is the name
    # Faust advertises for this worker (its canonical URL), not an address it binds.
    web_bind: str = "127.0.0.1"
    web_host: str = "127.0.0.1"
    web_port: int = Field(default=6066, ge=0, le=65535)
    rules_path: Path | None = None
    # Keys the bundle key's HMAC over customer and address. Every worker of a deployment must
    # use the same one; required when the rule set enables bundling.
    bundle_key_secret: SecretStr | None = None

    # Topics: names are `{topic_prefix}{name}`; counts apply when a worker creates a topic.
    topic_prefix: str = ""
    topic_partitions: int = Field(default=6, ge=1)
    topic_replication_factor: int = Field(default=1, ge=1)
    # Dead letters keep the original payload (personal data included): deleted after this.
    dlq_retention_days: int = Field(default=14, ge=1)
    # The raw topics and the flow topics that hold personal data (orders.events,
    # fulfilment.requests, fulfilment.bundling, tracking.*) delete records after this.
    personal_data_retention_days: int = Field(default=30, ge=1)

    # Consumer group timing (seconds). Short values make a restarted worker rejoin fast.
    session_timeout_s: float = Field(default=10.0, gt=0)
    heartbeat_interval_s: float = Field(default=1.0, gt=0)
    rebalance_timeout_s: float = Field(default=10.0, gt=0)
    commit_interval_s: float = Field(default=1.0, gt=0)

    # Producer batch size (bytes). tansu lists a partition's end offset short of a multi-record
    # last batch; on tansu set `broker_high_watermark_from_fetch`.
    producer_max_batch_size: int = Field(default=16384, ge=1)

    # Table recovery takes each changelog partition's end from a fetch's high watermark
    # instead of the listed end offset (agents/faust_patches/true_recovery_end.py). Only for a
    # broker that lists ends short (tansu: the embedded stack's launchers set it); Kafka lists
    # them right.
    broker_high_watermark_from_fetch: bool = False

    # Order decisions settled with one flush (group commit, agents/order_batch.py). 1 flushes
    # every decision before publishing its outputs: the same guarantees, 4x slower under a
    # backlog on the embedded broker.
    order_batch_max: int = Field(default=64, ge=1)

    # How long a fetch may wait at the broker for data (ms). Kafka answers as soon as data
    # arrives; tansu waits the full time (measured: 615 ms median delivery delay per hop at
    # Faust's fixed 1,500 ms, 1.8 ms at 10 ms), so the local runner sets 100 (10 overloads tansu).
    consumer_fetch_max_wait_ms: int = Field(default=500, ge=1)

    # Dedupe retention per source (hours): longer than the source's retry horizon.
    # Shopify retries a failed webhook up to 8 times over 4 hours; REST polls overlap by a
    # day at most; marketplaces re-list open orders for days; stock feeds re-send after a
    # restart within hours; PSPs retry notifications for up to 3 days.
    dedupe_hours_shopify: int = Field(default=48, ge=1)
    dedupe_hours_bol: int = Field(default=14 * 24, ge=1)
    dedupe_hours_amazon: int = Field(default=14 * 24, ge=1)
    dedupe_hours_pos: int = Field(default=7 * 24, ge=1)
    dedupe_hours_stock: int = Field(default=24, ge=1)
    dedupe_hours_wms: int = Field(default=72, ge=1)
    dedupe_hours_carrier: int = Field(default=72, ge=1)
    dedupe_hours_payment: int = Field(default=7 * 24, ge=1)
    dedupe_hours_returns: int = Field(default=7 * 24, ge=1)

    # Orders with more lines are refused at ingest (`order_too_large`), as are orders whose
    # state would pass the table value limit (codecs/limits.py).
    max_order_lines: int = Field(default=MAX_ORDER_LINES, ge=1)

    # Inventory.
    reservation_ttl_minutes: int = Field(default=7 * 24 * 60, ge=1)
    ledger_marker_retention_hours: int = Field(default=7 * 24, ge=1)
    # Reservations and markers a SKU's stored head keeps; older ones are spilled to rows of
    # their own (streams/ledger_rows.py), so a popular SKU costs the same per command.
    ledger_head_rows: int = Field(default=16, ge=1)

    # Lifetimes of table rows (README "Retention"; streams/retention.py, order_lifetime.py).
    # A finished order is reduced to a tombstone this long after its last input, and the
    # tombstone deleted the longest dedupe window later; the start refuses a retention that
    # does not outlast the return window plus the longest dedupe window.
    order_retention_days: int = Field(default=60, ge=1)
    return_window_days: int = Field(default=30, ge=0)
    # An order still open (held, backordered, in exception...) this long after it was
    # placed becomes a stale_order exception, cancelled or held per its channel's rule.
    order_max_open_days: int = Field(default=30, ge=1)
    # Live idempotency keys one order keeps; the input after that is dead-lettered.
    order_max_inputs: int = Field(default=4096, ge=16)
    bundle_retention_days: int = Field(default=7, ge=1)
    # A tracking number's row lives this long after its shipment shipped (carriers scan for
    # weeks at most; they re-use numbers after months).
    tracking_retention_days: int = Field(default=60, ge=1)
    # How often each table's sweep deletes the rows of the worker's partitions whose
    # lifetime has passed at the partition's newest record time.
    retention_sweep_interval_s: float = Field(default=60.0, gt=0)

    # RocksDB memory of the whole worker (agents/rocksdb_memory.py): every table partition
    # is its own database; all share one block cache and one memtable budget.
    rocksdb_memtable_mb: int = Field(default=4, ge=1)
    rocksdb_memtables_mb: int = Field(default=64, ge=1)
    rocksdb_cache_mb: int = Field(default=64, ge=1)

    # Sinks (agents/sinks/delivery.py). `sink_mode` is every sink's mode, shadow (build and
    # log the exact request, send nothing) or write; `sink_mode_<name>` overrides one sink's.
    # `sink_resend_shadowed` sends, in write mode, the events shadow mode logged (once each).
    sink_mode: SinkMode = SinkMode.SHADOW
    sink_mode_shopify: SinkMode | None = None
    sink_mode_shopify_stock: SinkMode | None = None
    sink_mode_bol: SinkMode | None = None
    sink_mode_amazon: SinkMode | None = None
    sink_mode_fulfilment: SinkMode | None = None
    sink_mode_email: SinkMode | None = None
    sink_mode_sms: SinkMode | None = None
    sink_resend_shadowed: bool = False
    # One request's time limit; the retry backoff (exponential with jitter, from the initial
    # wait to the longest); the longest `Retry-After` honoured. A channel that stays down
    # holds its sink (it waits and catches up, losing nothing).
    sink_request_timeout_s: float = Field(default=10.0, gt=0)
    sink_retry_initial_s: float = Field(default=0.5, gt=0)
    sink_retry_max_s: float = Field(default=30.0, gt=0)
    sink_retry_after_max_s: float = Field(default=300.0, gt=0)
    # Each channel's published rate limit applies unless this is off (benchmarks).
    sink_rate_limits: bool = True
    # A delivery log entry keeps its exact request (a notification's holds the customer's
    # contact) this long, and lives itself, keeping its event from going twice, this long.
    sink_request_retention_days: int = Field(default=30, ge=1)
    sink_log_retention_days: int = Field(default=90, ge=1)
    # Each sink process serves its `orderstream_sink_*` metrics on web_bind:this/metrics;
    # 0 is any free port (logged at start): give each sink on one host its own.
    sink_metrics_port: int = Field(default=0, ge=0, le=65535)
    # The Shopify sink (`orderstream sink shopify`): the shop's URL (`https://{shop}.myshopify.com`
    # or a simulator), its Admin API access token and version, and a request limit a second
    # on top of Shopify's query-cost bucket, which the client follows by itself. An event whose
    # order the store has not written yet is looked for again every `sink_store_poll_s`.
    shopify_shop_url: str = "http://127.0.0.1:8765"
    shopify_access_token: SecretStr | None = None
    shopify_api_version: str = "2026-10"
    shopify_rate_limit_per_s: float = Field(default=10.0, gt=0)
    # The shop's location the stock sink sets available units at (legacy id or global id).
    shopify_stock_location_id: str = ""
    sink_store_poll_s: float = Field(default=0.5, gt=0)

    # The Amazon sink (`orderstream sink amazon`): the SP-API endpoint of the seller's region,
    # Login with Amazon's token URL, the app's LWA client and the seller's refresh token.
    amazon_sp_endpoint: str = "https://sellingpartnerapi-eu.amazon.com"
    amazon_lwa_token_url: str = "https://api.amazon.com/auth/o2/token"
    amazon_lwa_client_id: str | None = None
    amazon_lwa_client_secret: SecretStr | None = None
    amazon_lwa_refresh_token: SecretStr | None = None

    # The Bol.com sink (`orderstream sink bol`): the Retailer API (v10) and its token endpoint,
    # the retailer's API client credentials, how often a change's process status is polled
    # and for how long before the attempt is called retryable (then settled by reading
    # Bol.com's state), and a request limit a second (Bol.com publishes no fixed numbers: its
    # limits are per endpoint and retailer, answered with 429 and `Retry-After`).
    bol_api_url: str = "https://api.bol.com"
    bol_token_url: str = "https://login.bol.com/token"
    bol_client_id: str | None = None
    bol_client_secret: SecretStr | None = None
    bol_process_poll_s: float = Field(default=0.5, gt=0)
    bol_process_wait_s: float = Field(default=30.0, gt=0)
    bol_rate_limit_per_s: float = Field(default=2.0, gt=0)

    # Customer notifications (agents/notify/, README "Customer notifications"). Lists are
    # comma-separated: channels whose marketplace mails its own customers; the kinds each
    # medium sends (a kind left out is opted out); quiet hours (local time, start == end: none)
    # hold back SMS, and e-mail too when `notify_quiet_email`.
    notify_shop_name: str = "orderstream"
    notify_silent_channels: str = "bol,amazon"
    notify_email_kinds: str = ",".join(sorted(ALL_KINDS))
    notify_sms_kinds: str = MessageKind.SHIPPED.value
    notify_quiet_start: time = time(21, 0)
    notify_quiet_end: time = time(8, 0)
    notify_quiet_time_zone: str = "Europe/Amsterdam"
    notify_quiet_email: bool = False
    notify_default_language: Literal["nl", "de", "fr", "en"] = "en"
    # E-mail: the SMTP server, the From address (shown with the shop name), TLS from the first
    # byte, STARTTLS, or none (a local relay).
    notify_smtp_host: str = "127.0.0.1"
    notify_smtp_port: int = Field(default=25, ge=1, le=65535)
    notify_smtp_from: str = "orders@shop.example"
    notify_smtp_security: Literal["none", "starttls", "tls"] = "none"
    notify_smtp_username: str | None = None
    notify_smtp_password: SecretStr | None = None
    notify_smtp_timeout_s: float = Field(default=10.0, gt=0)
    # SMS/WhatsApp: the provider's webhook (none: no SMS), its signing secret, the medium named
    # in each request.
    notify_webhook_url: str | None = None
    notify_webhook_secret: SecretStr | None = None
    notify_webhook_medium: str = "sms"
    notify_webhook_timeout_s: float = Field(default=10.0, gt=0)

    @field_validator("notify_email_kinds", "notify_sms_kinds")
    @classmethod
    def _known_kinds(cls, value: str) -> str:
        unknown = set(_names(value)) - {k.value for k in MessageKind}
        if unknown:
            raise ValueError(f"unknown message kinds: {', '.join(sorted(unknown))}")
        return value

    @field_validator("notify_quiet_time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError("not a known time zone") from error
        return value

    def notification_rules(self, *, sms_sender: bool) -> NotificationRules:
        """The notification settings as the pure rules' value (`sms_sender`: a webhook is
        configured; without one no kind goes by SMS)."""
        media = {Medium.SMS, Medium.EMAIL} if self.notify_quiet_email else {Medium.SMS}
        quiet = QuietHours(
            self.notify_quiet_start,
            self.notify_quiet_end,
            self.notify_quiet_time_zone,
            frozenset(media),
        )
        sms = frozenset(MessageKind(k) for k in _names(self.notify_sms_kinds))
        return NotificationRules(
            silent_channels=frozenset(_names(self.notify_silent_channels)),
            email_kinds=frozenset(MessageKind(k) for k in _names(self.notify_email_kinds)),
            sms_kinds=sms if sms_sender else frozenset(),
            quiet_hours=quiet,
            default_language=self.notify_default_language,
        )

    def webhook_secret(self) -> bytes:
        """The webhook's signing secret; a webhook URL without one (or a short one) stops
        the start: unsigned requests would let anyone send texts through the provider."""
        secret = self.notify_webhook_secret
        value = secret.get_secret_value() if secret else ""
        if self.notify_webhook_url and len(value) < MIN_WEBHOOK_SECRET:
            raise ValueError(
                "ORDERSTREAM_NOTIFY_WEBHOOK_URL is set: set ORDERSTREAM_NOTIFY_WEBHOOK_SECRET "
                f"(at least {MIN_WEBHOOK_SECRET} characters)"
            )
        return value.encode()

    def topic(self, name: str) -> str:
        return f"{self.topic_prefix}{name}"

    def rocksdb_budget(self) -> Budget:
        return Budget(self.rocksdb_memtable_mb, self.rocksdb_memtables_mb, self.rocksdb_cache_mb)

    def bundle_secret(self, bundling: bool) -> bytes:
        """The bundle key's secret; with `bundling` on, a missing or short one stops the start
        (a secret each worker made up would split one customer's parcels across keys)."""
        secret = self.bundle_key_secret.get_secret_value() if self.bundle_key_secret else ""
        if bundling and len(secret) < MIN_BUNDLE_SECRET:
            raise ValueError(
                "the rule set enables bundling: set ORDERSTREAM_BUNDLE_KEY_SECRET (at least "
                f"{MIN_BUNDLE_SECRET} characters, the same for every worker)"
            )
        return secret.encode()

    def sink_mode_for(self, sink: str) -> SinkMode:
        """`sink`'s mode: `sink_mode_<sink>` when set, else `sink_mode`."""
        own: SinkMode | None = getattr(self, f"sink_mode_{sink}", None)
        return mode_of(sink, self.sink_mode, {sink: own})

    def sink_lifetimes(self) -> Lifetimes:
        """How long a delivery log entry keeps its request, and lives (`ValueError` when the
        entry would die before its request: the request is the shorter lifetime)."""
        return Lifetimes(
            request=timedelta(days=self.sink_request_retention_days),
            entry=timedelta(days=self.sink_log_retention_days),
        )

    def dlq_retention(self) -> timedelta:
        return timedelta(days=self.dlq_retention_days)

    def topic_retention(self) -> TopicRetention:
        """How long the topics the worker creates keep their records."""
        return TopicRetention(
            dead_letters=self.dlq_retention(),
            personal_data=timedelta(days=self.personal_data_retention_days),
        )

    def lifetime_problem(self) -> str | None:
        """Why the order lifetimes are unsafe (None: they are fine); checked at start."""
        from orderstream.codecs.sources import Source
        from orderstream.streams.retention import lifetime_problem

        windows = {s.value: self.dedupe_retention(s.value) for s in Source if s is not Source.STOCK}
        return lifetime_problem(
            timedelta(days=self.order_retention_days),
            timedelta(days=self.return_window_days),
            windows,
            timedelta(days=self.order_max_open_days),
        )

    def dedupe_retention(self, source: str) -> timedelta:
        hours: int = getattr(self, f"dedupe_hours_{source}")
        return timedelta(hours=hours)


def _names(listed: str) -> list[str]:
    """The names of a comma-separated setting, blanks dropped."""
    return [name.strip() for name in listed.split(",") if name.strip()]


def load_settings(**overrides: object) -> Settings:
    """Read the environment once; `overrides` win (tests and the CLI use them)."""
    return Settings(**overrides)  # type: ignore[arg-type]
