"""Run an ASGI app with uvicorn on loopback in a background thread: for tests, benchmarks, demos.

Why: sandbox tests must cross a real socket (timeouts, dropped connections and keep-alive only
exist there), and must not race for ports. The listening socket is bound here on 127.0.0.1
port 0 *before* uvicorn starts, so the port is known and held from the first instant; uvicorn
serves that socket from its own event loop thread. Stopping asks uvicorn to exit gracefully
(finishing in-flight answers, e.g. a held "timeout" fault) and joins the thread.
"""

from __future__ import annotations

import socket
import threading
import time
from types import TracebackType
from typing import Any

import uvicorn

LOOPBACK = "127.0.0.1"


class SandboxServerError(RuntimeError):
    """The server thread did not start or stop in time."""


class SandboxServer:
    """A uvicorn server for `app` on loopback; use as a context manager.

    Args:
        app: any ASGI 3 application.
        host: the interface to bind; loopback unless a demo needs otherwise.
        port: 0 picks a free port (read it from `port` / `url`).
        startup_timeout: wall seconds to wait for the server to accept connections.
        shutdown_timeout: wall seconds to wait for a graceful stop before forcing it.
        log_level: uvicorn's log level (its access log is off).
    """

    def __init__(
        self,
        app: Any,
        *,
        host: str = LOOPBACK,
        port: int = 0,
        startup_timeout: float = 10.0,
        shutdown_timeout: float = 10.0,
        log_level: str = "warning",
    ) -> None:
        self.app = app
        self.host = host
        self._requested_port = port
        self.startup_timeout = startup_timeout
        self.shutdown_timeout = shutdown_timeout
        self.log_level = log_level
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._port: int | None = None

    @property
    def port(self) -> int:
        """The bound port (after `start`)."""
        if self._port is None:
            raise SandboxServerError("the sandbox server is not running; call start() first")
        return self._port

    @property
    def url(self) -> str:
        """`http://127.0.0.1:PORT`, without a trailing slash."""
        return f"http://{self.host}:{self.port}"

    def start(self) -> SandboxServer:
        """Bind, start serving in a daemon thread, and wait until connections are accepted."""
        if self._thread is not None:
            raise SandboxServerError("the sandbox server is already running")
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self._requested_port))
        self._port = int(sock.getsockname()[1])
        config = uvicorn.Config(
            self.app,
            log_config=None,  # leave the host process's logging configuration alone
            log_level=self.log_level,
            access_log=False,
            lifespan="off",
            proxy_headers=False,
            timeout_graceful_shutdown=max(1, int(self.shutdown_timeout)),
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name=f"sandbox:{self._port}", daemon=True
        )
        self._server, self._thread = server, thread
        thread.start()
        deadline = time.monotonic() + self.startup_timeout
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                self._server, self._thread, self._port = None, None, None
                sock.close()
                raise SandboxServerError(
                    f"the sandbox server on {self.host} did not start within "
                    f"{self.startup_timeout:g} s; see the uvicorn log above"
                )
            time.sleep(0.005)
        return self

    def stop(self) -> None:
        """Stop gracefully; force it if in-flight requests outlast `shutdown_timeout`."""
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        server.should_exit = True
        thread.join(self.shutdown_timeout)
        if thread.is_alive():
            server.force_exit = True
            thread.join(self.shutdown_timeout)
        self._server, self._thread = None, None
        if thread.is_alive():
            raise SandboxServerError(f"the sandbox server on port {self._port} did not stop")

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
