"""Local emulators as child processes: Azurite (blob, queue, table) and @vercel/cosmosdb-server (HTTPS)."""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import socket
import ssl
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

LOOPBACK = "127.0.0.1"
STORAGE_ACCOUNT = "devstoreaccount1"
# The documented, public development-storage key of Azurite and the Storage Emulator.
STORAGE_ACCOUNT_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
# The documented, public Cosmos DB emulator key (cosmosdb-server accepts any key).
COSMOS_EMULATOR_KEY = "C2y6yDjf5/R+ob0N8A7Cgv30VRDJIWEHLM+4QDU5DE2nQ9nDuVTqobD4b8mGGyPMbIZnqyMsEcaGQy67XIw/Jw=="
STARTUP_TIMEOUT_SECONDS = 60.0
STOP_GRACE_SECONDS = 5.0
_LOG_TAIL_LINES = 20


class EmulatorError(RuntimeError):
    """An emulator could not be started (missing install, busy port, early exit, timeout)."""


def storage_connection_string(blob_port: int, queue_port: int, table_port: int, host: str = LOOPBACK) -> str:
    """The development-storage connection string with explicit endpoints on the given ports."""
    return (
        f"DefaultEndpointsProtocol=http;AccountName={STORAGE_ACCOUNT};AccountKey={STORAGE_ACCOUNT_KEY};"
        f"BlobEndpoint=http://{host}:{blob_port}/{STORAGE_ACCOUNT};"
        f"QueueEndpoint=http://{host}:{queue_port}/{STORAGE_ACCOUNT};"
        f"TableEndpoint=http://{host}:{table_port}/{STORAGE_ACCOUNT};"
    )


def port_accepts(port: int, host: str = LOOPBACK, timeout: float = 0.25) -> bool:
    """Whether something accepts TCP connections on host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_until_serving(base_url: str, timeout: float = STARTUP_TIMEOUT_SECONDS) -> None:
    """Block until a dev host answers GET /healthz with 200; EmulatorError after the timeout."""
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base_url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise EmulatorError(f"{base_url} did not start serving within {timeout:g}s")


def free_ports(count: int, host: str = LOOPBACK) -> list[int]:
    """Distinct free TCP ports on host (held open together so none is handed out twice)."""
    with contextlib.ExitStack() as stack:
        ports = []
        for _ in range(count):
            sock = stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
            sock.bind((host, 0))
            ports.append(sock.getsockname()[1])
        return ports


@dataclass
class _Child:
    name: str
    command: list[str]
    ports: tuple[int, ...]
    log_path: Path
    process: subprocess.Popen | None = None
    log_file: IO[bytes] | None = None

    def start(self, cwd: Path) -> None:
        self.log_file = self.log_path.open("ab")
        self.process = subprocess.Popen(
            self.command,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=self.log_file,
            stderr=subprocess.STDOUT,
            # Its own process group, so stopping it also stops whatever node spawns.
            start_new_session=True,
        )

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def ready(self) -> bool:
        return all(port_accepts(port) for port in self.ports)

    def log_tail(self) -> str:
        try:
            lines = self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            return "(no log)"
        return "\n".join(lines[-_LOG_TAIL_LINES:]) or "(empty log)"

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            _signal_group(process, signal.SIGTERM)
            try:
                process.wait(STOP_GRACE_SECONDS)
            except subprocess.TimeoutExpired:
                _signal_group(process, signal.SIGKILL)
                process.wait(STOP_GRACE_SECONDS)
        if self.log_file is not None:
            self.log_file.close()
            self.log_file = None


def _signal_group(process: subprocess.Popen, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signum)


class Emulators:
    """Azurite and cosmosdb-server on loopback, started together and stopped together (a context manager)."""

    def __init__(
        self,
        root: Path,
        data_dir: Path,
        *,
        in_memory: bool = True,
        blob_port: int = 0,
        queue_port: int = 0,
        table_port: int = 0,
        cosmos_port: int = 0,
    ) -> None:
        self.root = Path(root).resolve()
        self.data_dir = Path(data_dir).resolve()
        self.in_memory = in_memory
        requested = [blob_port, queue_port, table_port, cosmos_port]
        picked = iter(free_ports(requested.count(0)))
        self.blob_port, self.queue_port, self.table_port, self.cosmos_port = (
            port or next(picked) for port in requested
        )
        self._azurite = _Child("Azurite", self._azurite_command(), self._storage_ports, self.data_dir / "azurite.log")
        self._cosmos = _Child(
            "cosmosdb-server",
            [*self._cosmos_launcher(), "-p", str(self.cosmos_port), "--host", LOOPBACK],
            (self.cosmos_port,),
            self.data_dir / "cosmosdb-server.log",
        )

    @property
    def storage_connection_string(self) -> str:
        """AzureWebJobsStorage for this Azurite."""
        return storage_connection_string(self.blob_port, self.queue_port, self.table_port)

    @property
    def cosmos_endpoint(self) -> str:
        """The cosmosdb-server endpoint (HTTPS, self-signed)."""
        return f"https://{LOOPBACK}:{self.cosmos_port}"

    @property
    def cosmos_key(self) -> str:
        """The well-known emulator key."""
        return COSMOS_EMULATOR_KEY

    def env(self) -> dict[str, str]:
        """The settings pointing the app at these emulators."""
        return {
            "AzureWebJobsStorage": self.storage_connection_string,
            "COSMOS_ENDPOINT": self.cosmos_endpoint,
            "COSMOS_KEY": self.cosmos_key,
        }

    def start(self) -> Emulators:
        """Start both emulators and wait until they accept connections; EmulatorError if they do not."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        busy = [port for port in (*self._storage_ports, self.cosmos_port) if port_accepts(port)]
        if busy:
            raise EmulatorError(
                f"port(s) {', '.join(map(str, busy))} already in use on {LOOPBACK} (another emulator running?)"
            )
        try:
            for child in (self._azurite, self._cosmos):
                child.start(self.data_dir)
            self._wait_ready([self._azurite, self._cosmos])
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop both emulators (SIGTERM, then SIGKILL after a grace period)."""
        self._cosmos.stop()
        self._azurite.stop()

    @property
    def cosmos_pid(self) -> int:
        """The process id of cosmosdb-server (tests pause it to simulate a hanging dependency)."""
        if self._cosmos.process is None:
            raise EmulatorError("cosmosdb-server is not running")
        return self._cosmos.process.pid

    def cosmos_alive(self) -> bool:
        """Whether cosmosdb-server runs and answers an HTTPS request."""
        if not self._cosmos.running():
            return False
        context = ssl.create_default_context()
        # Its certificate is self-signed; this only probes liveness on loopback.
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        connection = http.client.HTTPSConnection(LOOPBACK, self.cosmos_port, timeout=2, context=context)
        try:
            connection.request("GET", "/")
            connection.getresponse().read()
            return True
        except (OSError, http.client.HTTPException):
            return False
        finally:
            connection.close()

    def restart_cosmos(self) -> None:
        """Restart cosmosdb-server on the same port (it comes back empty: data lives in memory)."""
        self._cosmos.stop()
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        while port_accepts(self.cosmos_port) and time.monotonic() < deadline:
            time.sleep(0.05)
        self._cosmos.start(self.data_dir)
        self._wait_ready([self._cosmos])

    def __enter__(self) -> Emulators:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def _storage_ports(self) -> tuple[int, int, int]:
        return (self.blob_port, self.queue_port, self.table_port)

    def _bin(self, name: str) -> Path:
        path = self.root / "node_modules" / ".bin" / name
        if not path.exists():
            raise EmulatorError(f"{path} is missing; run `npm ci` in {self.root}")
        return path

    def _cosmos_launcher(self) -> list[str]:
        # Our launcher runs the pinned server with one fix (404 for a missing document's point read).
        self._bin("cosmosdb-server")
        return ["node", str(Path(__file__).resolve().parent / "cosmosdb-server.js")]

    def _azurite_command(self) -> list[str]:
        command = [
            str(self._bin("azurite")),
            "--silent",
            "--disableTelemetry",
            "--skipApiVersionCheck",
            "--loose",
            "--blobHost",
            LOOPBACK,
            "--queueHost",
            LOOPBACK,
            "--tableHost",
            LOOPBACK,
            "--blobPort",
            str(self.blob_port),
            "--queuePort",
            str(self.queue_port),
            "--tablePort",
            str(self.table_port),
        ]
        if self.in_memory:
            return [*command, "--inMemoryPersistence"]
        return [*command, "--location", str(self.data_dir / "azurite")]

    def _wait_ready(self, children: list[_Child]) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        waiting = list(children)
        while waiting:
            for child in list(waiting):
                if not child.running():
                    code = child.process.returncode if child.process is not None else None
                    raise EmulatorError(
                        f"{child.name} exited (code {code}) before accepting connections; "
                        f"last lines of {child.log_path}:\n{child.log_tail()}"
                    )
                if child.ready():
                    waiting.remove(child)
            if waiting and time.monotonic() > deadline:
                names = ", ".join(child.name for child in waiting)
                tails = "\n".join(f"--- {child.log_path}:\n{child.log_tail()}" for child in waiting)
                raise EmulatorError(
                    f"{names} did not accept connections within {STARTUP_TIMEOUT_SECONDS:.0f} s\n{tails}"
                )
            if waiting:
                time.sleep(0.05)
