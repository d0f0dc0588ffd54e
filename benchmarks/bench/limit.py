"""The limit of this stack, for `orderstream bench`: aiokafka passthrough over orderstream's hops.

Four hops like orderstream's (raw -> events -> commands -> replies -> status): each one
consumes a batch with aiokafka, decodes every value with msgspec (JSON at the first hop,
where channel payloads arrive; the hop's own msgpack after that) and produces it on, with
its key and headers, through one shared producer with the same broker settings orderstream
runs with. No state, no decisions: the cost of moving records through the broker and the
client, which no pipeline on this broker and client can beat.

Run as `python -m orderstream.benchmarks.bench.limit` with `BENCH_BOOTSTRAP` and `BENCH_PREFIX`.
"""

from __future__ import annotations

import asyncio
import os
import signal

import msgspec
import uvloop
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from orderstream.codecs.sources import Source

from ..localrun import TANSU_FETCH_WAIT_MS

HOPS = ("limit.events", "limit.commands", "limit.replies")
STATUS_TOPIC = "limit.status"

_json = msgspec.json.Decoder()
_msgpack = msgspec.msgpack.Decoder()
_encode = msgspec.msgpack.Encoder().encode


async def hop(
    bootstrap: str, group: str, sources: list[str], target: str, producer: AIOKafkaProducer
) -> None:
    consumer = AIOKafkaConsumer(
        *sources,
        bootstrap_servers=bootstrap,
        group_id=group,
        auto_offset_reset="earliest",
        fetch_max_wait_ms=TANSU_FETCH_WAIT_MS,
    )
    await consumer.start()
    first = sources[0].endswith(tuple(f"raw.{source.value}" for source in Source))
    try:
        while True:
            batches = await consumer.getmany(timeout_ms=1000)
            sent = []
            for records in batches.values():
                for record in records:
                    if first:
                        try:
                            value = _encode(_json.decode(record.value or b""))
                        except msgspec.DecodeError:
                            value = b""  # a malformed payload: passed on empty
                    else:
                        _msgpack.decode(record.value or b"\xc0")
                        value = record.value or b""
                    sent.append(
                        await producer.send(
                            target, value, key=record.key, headers=list(record.headers)
                        )
                    )
            if sent:
                await asyncio.gather(*sent)
    finally:
        await consumer.stop()


async def run(bootstrap: str, prefix: str) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    raw = [f"{prefix}raw.{source.value}" for source in Source]
    chain = [raw, *([f"{prefix}{name}"] for name in HOPS)]
    targets = [f"{prefix}{name}" for name in (*HOPS, STATUS_TOPIC)]
    group = f"{prefix}limit"
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    tasks = [
        asyncio.create_task(hop(bootstrap, f"{group}.{n}", sources, target, producer))
        for n, (sources, target) in enumerate(zip(chain, targets, strict=True))
    ]
    await stop.wait()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await producer.stop()


def main() -> None:
    uvloop.run(run(os.environ["BENCH_BOOTSTRAP"], os.environ["BENCH_PREFIX"]))


if __name__ == "__main__":
    main()
