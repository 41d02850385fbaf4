"""The streaming connectors' WebSocket connection: the address guard of `core.fetcher` on the socket, one
handshake, then messages until the stream drops, `stop` is set or nothing (not even a ping) arrives for
`idle_timeout` seconds. Failures to connect are ConnectorErrors, with the server's Retry-After when it
refused the upgrade."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from servicepulse.core.fetcher import FetchError, parse_retry_after, websocket_target
from servicepulse.sources.registry import ConnectorError


def websocket_messages(
    url: str,
    *,
    label: str,
    stop: Any,
    idle_timeout: float,
    poll: float,
    timeout: float,
    max_size: int,
    max_queue: int | None = None,
    headers: Mapping[str, str] | None = None,
    send_first: Sequence[str] = (),
) -> Iterator[str | bytes]:
    """Messages from one connection to `url` (`label` starts every error message; `send_first` is sent once
    connected; `poll` is how often `stop` is checked)."""
    from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus
    from websockets.sync.client import connect

    parts = urlsplit(url)
    try:
        host, port, address = websocket_target(url)
        sock = socket.create_connection((address, port), timeout=timeout)
    except FetchError as exc:
        raise ConnectorError(f"{label}: {exc}") from None
    except OSError as exc:
        raise ConnectorError(f"{label}: cannot connect to {parts.netloc}: {exc}") from None
    options: dict[str, Any] = {"max_queue": max_queue} if max_queue is not None else {}
    try:
        connection = connect(
            url,
            sock=sock,
            server_hostname=host if parts.scheme == "wss" else None,
            open_timeout=timeout,
            compression=None,
            max_size=max_size,
            additional_headers=dict(headers) if headers else None,
            **options,
        )
    except InvalidStatus as exc:
        sock.close()
        status = exc.response.status_code
        retry = parse_retry_after(exc.response.headers.get("Retry-After"))
        raise ConnectorError(f"{label}: HTTP {status} from {parts.netloc}", retry_after=retry) from None
    except (InvalidHandshake, OSError, TimeoutError) as exc:
        sock.close()
        raise ConnectorError(f"{label}: handshake with {parts.netloc} failed: {exc}") from None
    last = time.monotonic()
    with connection:
        try:
            for message in send_first:
                connection.send(message)
        except ConnectionClosed:
            # Closed by the server before we said what we want (restarting, or shedding load): a disconnect
            # like any other, which the connector reconnects from after its back-off.
            return
        while not stop.is_set():
            try:
                received = connection.recv(timeout=poll)
            except TimeoutError:
                if time.monotonic() - last > idle_timeout:
                    return
                continue
            except ConnectionClosed:
                return
            last = time.monotonic()
            yield received
