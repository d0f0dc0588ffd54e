"""A channel client's one aiohttp session: opened by `async with`, closed on exit or by
`close`, and never made at construction (nothing is built at import or wiring time)."""

from __future__ import annotations

from types import TracebackType
from typing import Self

import aiohttp


class SessionClient:
    """The session a channel client calls through, with one total timeout per request."""

    def __init__(self, timeout: float) -> None:
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Self:
        self._session = aiohttp.ClientSession(timeout=self._timeout)
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
