"""A TCP proxy on 127.0.0.1 in front of PostgreSQL, to fail the database under a running copbot.

`down` cuts every open connection and cuts each new one as soon as it is accepted (the
database is gone); `down_on` does so in the middle of what copbot is doing, when it sends given
bytes (a statement's parameter, say); `up` lets connections through again; ``delay`` holds each
chunk a client sends for that many seconds before passing it on (a slow database: every
statement waits).

    async with DatabaseProxy(5432) as proxy:
        url = postgres_url.replace(":5432/", f":{proxy.port}/")
        ...
        proxy.down()
        proxy.delay = 1.0
"""

from __future__ import annotations

import asyncio

CHUNK = 65536


class DatabaseProxy:
    """Forwards 127.0.0.1:``port`` (chosen when started) to ``target_host``:``target_port``."""

    def __init__(self, target_port: int, target_host: str = "127.0.0.1") -> None:
        self.target = (target_host, target_port)
        self.port = 0
        self.delay = 0.0
        self._is_up = True
        self._cut_on: bytes | None = None
        self._server: asyncio.Server | None = None
        self._open: set[asyncio.StreamWriter] = set()
        self._pumps: set[asyncio.Task[None]] = set()

    async def start(self) -> DatabaseProxy:
        self._server = await asyncio.start_server(self._connected, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def close(self) -> None:
        self.down()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        for pump in list(self._pumps):
            pump.cancel()
        await asyncio.gather(*self._pumps, return_exceptions=True)

    async def __aenter__(self) -> DatabaseProxy:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def is_up(self) -> bool:
        return self._is_up

    def down(self) -> None:
        """The database is gone: every connection is cut now, and each new one as it comes."""
        self._is_up = False
        for writer in list(self._open):
            writer.transport.abort()
        self._open.clear()

    def down_on(self, marker: bytes) -> None:
        """Go `down` when a client sends ``marker`` (that chunk is not passed on)."""
        self._cut_on = marker

    def up(self) -> None:
        """The database is back: new connections go through (the cut ones stay cut)."""
        self._is_up = True
        self._cut_on = None

    async def _connected(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        if not self._is_up:
            client_writer.transport.abort()
            return
        try:
            server_reader, server_writer = await asyncio.open_connection(*self.target)
        except OSError:
            client_writer.transport.abort()
            return
        if not self._is_up:  # went down while connecting
            client_writer.transport.abort()
            server_writer.transport.abort()
            return
        self._open.update((client_writer, server_writer))
        for pump in (
            self._pump(client_reader, server_writer, slowed=True),
            self._pump(server_reader, client_writer, slowed=False),
        ):
            task = asyncio.create_task(pump)
            self._pumps.add(task)
            task.add_done_callback(self._pumps.discard)

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *, slowed: bool) -> None:
        """Copy one direction until either side closes; then cut ``writer`` too (the pump of the
        other direction then reads its end)."""
        try:
            while chunk := await reader.read(CHUNK):
                if slowed and self._cut_on is not None and self._cut_on in chunk:
                    self.down()
                if slowed and self.delay:
                    await asyncio.sleep(self.delay)
                if writer.is_closing():
                    break
                writer.write(chunk)
                await writer.drain()
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            self._open.discard(writer)
            writer.transport.abort()
