"""Threaded WSGI server hosting the emulator, for tests and local development."""

from __future__ import annotations

import socket
import socketserver
import threading
from collections.abc import Iterable
from types import TracebackType
from typing import Any
from urllib.parse import urlencode
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from .app import DROP_CONNECTION_KEY, EmulatorApp
from .context import EmulatorContext
from .keys import SigningKey
from .ratelimit import DEFAULT_RATE_LIMIT, RateLimitConfig
from .state import Client, Clock, EmulatorState, RecordSpec

_WILDCARD_HOSTS = {"", "0.0.0.0", "::"}


class _ThreadingWSGIServer(socketserver.ThreadingMixIn, WSGIServer):
    # Daemon threads: a browser holding a connection open must not block stop().
    daemon_threads = True
    # socketserver's default backlog of 5 resets connections under modest
    # parallelism (a browser opening several sockets, a threaded test).
    request_queue_size = 128
    quiet = True

    def server_bind(self) -> None:
        # HTTPServer.server_bind calls socket.getfqdn(), a reverse DNS lookup
        # that can stall for seconds in sandboxes; the name is never needed.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = int(port)
        self.setup_environ()


class _ThreadingWSGIServerV6(_ThreadingWSGIServer):
    address_family = socket.AF_INET6


class _DroppableWriter:
    """The connection's write side; once dropped it swallows the response, so the
    client sees the connection close with no answer at all."""

    def __init__(self, raw: Any) -> None:
        self._raw = raw
        self.dropped = False

    def drop(self) -> None:
        self.dropped = True

    def write(self, data: bytes) -> int:
        if self.dropped:
            return len(data)
        return int(self._raw.write(data))

    def flush(self) -> None:
        if not self.dropped:
            self._raw.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._raw, name)


class _RequestHandler(WSGIRequestHandler):
    def setup(self) -> None:
        super().setup()
        self.wfile = _DroppableWriter(self.wfile)  # type: ignore[assignment]

    def get_environ(self) -> dict[str, Any]:
        environ = super().get_environ()
        environ[DROP_CONNECTION_KEY] = self.wfile.drop  # type: ignore[attr-defined]
        return environ

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        if not getattr(self.server, "quiet", True):
            super().log_message(format, *args)


class EmulatorServer:
    """An ORCID OAuth/OIDC emulator listening on a local port.

    ``records=None`` seeds three demo records; pass ``[]`` for none.
    ``issuer`` overrides the advertised base URL (e.g. when reached through
    a container hostname); by default it is ``http://<host>:<port>``.
    ``rate_limit`` throttles ``/v3.0/`` like ORCID (24/s burst 40 per member
    client, 12/s burst 40 anonymous, 503 when over); ``None`` switches it off.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        clients: Iterable[Client] = (),
        records: Iterable[RecordSpec] | None = None,
        *,
        signing_key: SigningKey | None = None,
        issuer: str | None = None,
        quiet: bool = True,
        clock: Clock | None = None,
        rate_limit: RateLimitConfig | None = DEFAULT_RATE_LIMIT,
    ) -> None:
        self.host = host
        self.port = port
        self.quiet = quiet
        self._issuer_override = issuer.rstrip("/") if issuer else None
        self.state = EmulatorState(clients=clients, records=records, clock=clock, rate_limit=rate_limit)
        self.signing_key = signing_key or SigningKey.generate()
        self.context = EmulatorContext(self.state, self.signing_key)
        self.app = EmulatorApp(self.context)
        self._httpd: _ThreadingWSGIServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------

    def start(self) -> EmulatorServer:
        """Bind and serve from a daemon thread; returns ``self`` for chaining."""
        httpd = self._bind()
        self._thread = threading.Thread(
            target=httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"orcid-emulator:{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Bind and serve in the calling thread until :meth:`stop` or Ctrl-C."""
        httpd = self._bind()
        try:
            httpd.serve_forever(poll_interval=0.2)
        finally:
            httpd.server_close()
            self._httpd = None

    def stop(self) -> None:
        httpd, thread = self._httpd, self._thread
        self._httpd = self._thread = None
        if httpd is None:
            return
        httpd.shutdown()
        httpd.server_close()
        if thread is not None:
            thread.join(timeout=5)

    @property
    def running(self) -> bool:
        return self._httpd is not None

    def __enter__(self) -> EmulatorServer:
        return self.start() if not self.running else self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _bind(self) -> _ThreadingWSGIServer:
        if self._httpd is not None:
            raise RuntimeError("emulator is already running")
        server_class = _ThreadingWSGIServerV6 if ":" in self.host else _ThreadingWSGIServer
        httpd = make_server(self.host, self.port, self.app, server_class=server_class, handler_class=_RequestHandler)
        assert isinstance(httpd, _ThreadingWSGIServer)
        httpd.quiet = self.quiet
        self.port = httpd.server_port
        self.context.issuer = self._issuer_override or self._default_base_url()
        self._httpd = httpd
        return httpd

    def _default_base_url(self) -> str:
        # A wildcard bind address is not something a browser can be sent to.
        host = "127.0.0.1" if self.host in _WILDCARD_HOSTS else self.host
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}"

    # -- URLs --------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``; also the OIDC issuer.  Needs a started server."""
        if not self.context.issuer:
            raise RuntimeError("base_url is only known once the server has started")
        return self.context.issuer

    @property
    def issuer(self) -> str:
        return self.base_url

    @property
    def discovery_url(self) -> str:
        return self.url("/.well-known/openid-configuration")

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    def authorize_url(
        self,
        client_id: str,
        redirect_uri: str,
        scope: str = "openid",
        state: str | None = None,
        **extra: str,
    ) -> str:
        """Build an ``/oauth/authorize`` URL, as a relying party would."""
        params: dict[str, str] = {
            "client_id": client_id,
            "response_type": "code",
            "scope": scope,
            "redirect_uri": redirect_uri,
        }
        if state is not None:
            params["state"] = state
        params.update(extra)
        return f"{self.url('/oauth/authorize')}?{urlencode(params)}"
