"""`python -m devhost <command>`: serve the app, provision local storage, or run the whole dev stack.

Each command is a `Command` in COMMANDS: a function adding its arguments and a function running it.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import uvicorn

from devhost.emulators import EmulatorError, Emulators, port_accepts
from devhost.host import PROJECT_ROOT, DevHost
from devhost.provision import provision
from devhost.seed import run_seeders
from devhost.settings_loader import LOCAL_SETTINGS, ensure_local_settings, load_local_settings
from devhost.tokens import DevTokenError, ensure_dev_webhook_secret, mint_dev_token, trust_dev_signing_key
from shared.platform.lifecycle import reset_process_state
from shared.platform.net import is_loopback_host
from shared.platform.principal import Role

logger = logging.getLogger("devhost")

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 7071
DEFAULT_STORAGE_PORTS = {"BlobEndpoint": 10000, "QueueEndpoint": 10001, "TableEndpoint": 10002}
DEFAULT_COSMOS_PORT = 8081
SUPERVISOR_INTERVAL_SECONDS = 2.0
SUPERVISOR_JOIN_SECONDS = 15.0
LOCAL_DATA_DIR = ".local"


@dataclass(frozen=True)
class Command:
    """A subcommand: its help line, how it adds its arguments, and what it runs (returning an exit code)."""

    help: str
    configure: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


def load_environment(root: Path = PROJECT_ROOT) -> None:
    """Create local.settings.json if needed (with this machine's dev keys and webhook secret); apply it.

    With DEVHOST_LOCAL_SETTINGS=none the environment alone configures the app (tests and benchmarks
    start hosts that way, so they never read or write a developer's local.settings.json).
    """
    if os.environ.get("DEVHOST_LOCAL_SETTINGS", "").lower() != "none":
        from shared.platform.secrets import ensure_dev_encryption_keys

        settings_path = ensure_local_settings(root)
        trust_dev_signing_key(root, settings_path)
        ensure_dev_webhook_secret(settings_path)
        ensure_dev_encryption_keys(root, settings_path)
        load_local_settings(root / LOCAL_SETTINGS)
    refresh_clients()


def apply_environment(values: dict[str, str]) -> None:
    """Override environment variables (the emulators' endpoints) and refresh settings and clients."""
    os.environ.update(values)
    refresh_clients()


def refresh_clients() -> None:
    """Re-read settings and drop every cached client built from the old ones."""
    reset_process_state()


def emulator_ports(environ: Mapping[str, str], overrides: Mapping[str, int | None] | None = None) -> dict[str, int]:
    """The emulator ports: overrides, else AzureWebJobsStorage's endpoints and COSMOS_ENDPOINT, else defaults."""
    parts = dict(part.split("=", 1) for part in environ.get("AzureWebJobsStorage", "").split(";") if "=" in part)
    ports = {key: urlsplit(parts.get(key, "")).port or default for key, default in DEFAULT_STORAGE_PORTS.items()}
    ports["CosmosEndpoint"] = urlsplit(environ.get("COSMOS_ENDPOINT", "")).port or DEFAULT_COSMOS_PORT
    ports.update({key: port for key, port in (overrides or {}).items() if port})
    return ports


# What each port is and the make variable that moves it, for the one-line "port in use" message.
PORT_NAMES = {
    "API": "PORT",
    "BlobEndpoint": "BLOB_PORT",
    "QueueEndpoint": "QUEUE_PORT",
    "TableEndpoint": "TABLE_PORT",
    "CosmosEndpoint": "COSMOS_PORT",
}


def busy_port_message(ports: Mapping[str, int]) -> str | None:
    """One line naming the first port something already listens on, and how to choose another; None if all are free."""
    for name, port in ports.items():
        if port_accepts(port):
            variable = PORT_NAMES[name]
            return (
                f"make dev: port {port} ({name}) on {DEFAULT_HOST} is already in use; stop what holds it "
                f"or choose another: make dev {variable}={port + 1}"
            )
    return None


def build_host(root: Path = PROJECT_ROOT) -> DevHost:
    """Import `function_app` from the project root and index it."""
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    function_app = importlib.import_module("function_app")
    return DevHost(function_app.app)


def serve(host: DevHost, address: str, port: int) -> None:
    """Run the background pumps and uvicorn until Ctrl-C / SIGTERM."""
    host.start_background()
    try:
        quiet = os.environ.get("DEVHOST_ACCESS_LOG", "1") == "0"
        config = uvicorn.Config(
            host.asgi,
            host=address,
            port=port,
            log_level="warning" if quiet else "info",
            lifespan="on",
            access_log=not quiet,
        )
        uvicorn.Server(config).run()
    finally:
        host.stop()


def configure_serve(parser: argparse.ArgumentParser) -> None:
    """Arguments of `serve`."""
    parser.add_argument("--host", default=DEFAULT_HOST, help="loopback address to listen on")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)


def run_serve(args: argparse.Namespace) -> int:
    """Serve function_app on loopback."""
    if not is_loopback_host(args.host):
        print(f"refusing to listen on {args.host}: the dev host serves loopback only", file=sys.stderr)
        return 2
    load_environment()
    host = build_host()
    print(f"Tellgence API (dev host) on http://{args.host}:{args.port}  ({len(host.functions)} functions)")
    serve(host, args.host, args.port)
    return 0


def configure_provision(parser: argparse.ArgumentParser) -> None:
    """`provision` takes no arguments."""


def run_provision(args: argparse.Namespace) -> int:
    """Create the declared Cosmos database/containers, blob containers and queues."""
    load_environment()
    provision()
    print("provisioned")
    return 0


def configure_dev(parser: argparse.ArgumentParser) -> None:
    """Arguments of `dev`."""
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="API port on 127.0.0.1")
    parser.add_argument("--blob-port", type=int, help="Azurite blob port (default: local.settings.json, else 10000)")
    parser.add_argument("--queue-port", type=int, help="Azurite queue port (default 10001)")
    parser.add_argument("--table-port", type=int, help="Azurite table port (default 10002)")
    parser.add_argument("--cosmos-port", type=int, help="Cosmos emulator port (default 8081)")


def run_dev(args: argparse.Namespace) -> int:
    """Emulators + provision + seed + serve, with cosmosdb-server supervised; Ctrl-C stops it all."""
    load_environment()
    ports = emulator_ports(
        os.environ,
        {
            "BlobEndpoint": args.blob_port,
            "QueueEndpoint": args.queue_port,
            "TableEndpoint": args.table_port,
            "CosmosEndpoint": args.cosmos_port,
        },
    )
    busy = busy_port_message({"API": args.port, **ports})
    if busy:
        print(busy, file=sys.stderr)
        return 2
    emulators = Emulators(
        PROJECT_ROOT,
        PROJECT_ROOT / LOCAL_DATA_DIR,
        in_memory=False,
        blob_port=ports["BlobEndpoint"],
        queue_port=ports["QueueEndpoint"],
        table_port=ports["TableEndpoint"],
        cosmos_port=ports["CosmosEndpoint"],
    )
    try:
        emulators.start()
    except EmulatorError as exc:
        print(f"make dev: {str(exc).splitlines()[0]}", file=sys.stderr)
        return 2
    with contextlib.ExitStack() as running:
        running.callback(emulators.stop)
        standin = running.enter_context(_realtime_standin())
        apply_environment(emulators.env())
        provision()
        run_seeders()
        host = build_host()
        stop_supervisor = threading.Event()
        supervisor = threading.Thread(
            target=supervise_cosmos, args=(emulators, stop_supervisor), name="devhost-cosmos-supervisor", daemon=True
        )
        supervisor.start()
        try:
            print(f"Azurite blob   http://{DEFAULT_HOST}:{emulators.blob_port}/devstoreaccount1  (data in .local/)")
            print(f"Evidence key   {_evidence_signing_key_line()}")
            print(f"Azurite queue  http://{DEFAULT_HOST}:{emulators.queue_port}/devstoreaccount1")
            print(f"Cosmos DB      {emulators.cosmos_endpoint}  (self-signed, in memory)")
            if standin is not None:
                print(f"Azure OpenAI   {standin.url}  (local stand-in of realtime client_secrets)")
            print(f"API            http://{DEFAULT_HOST}:{args.port}/  (contract: /api/openapi.json)")
            serve(host, DEFAULT_HOST, args.port)
        finally:
            # Stop supervising first, or it would restart the Cosmos emulator we are about to stop.
            stop_supervisor.set()
            supervisor.join(SUPERVISOR_JOIN_SECONDS)
    return 0


def _evidence_signing_key_line() -> str:
    """Where evidence packs get their signing key, creating the local dev key when none is configured."""
    from shared.evidence import keys
    from shared.platform.errors import ServiceError
    from shared.platform.settings import get_settings

    settings = get_settings()
    if not settings.evidence_signing_key:
        keys.ensure_dev_signing_key()
    try:
        key = keys.signing_key(settings)
    except ServiceError as exc:
        return f"not usable: {exc.message}"
    source = "EVIDENCE_SIGNING_KEY" if settings.evidence_signing_key else str(keys.DEV_KEY_FILE)
    return f"{source} (key id {key.public_key_id}; ed25519, signs evidence packs)"


@contextlib.contextmanager
def _realtime_standin() -> Iterator[Any]:
    """The loopback stand-in of Azure OpenAI realtime credentials, when no endpoint is configured locally."""
    from devhost import realtime_standin
    from shared.platform.settings import get_settings

    if not realtime_standin.should_run(get_settings()):
        yield None
        return
    handle = realtime_standin.start(deployment=get_settings().azure_openai_deployment_realtime)
    try:
        apply_environment(handle.env())
        yield handle
    finally:
        handle.stop()


def supervise_cosmos(emulators: Emulators, stop: threading.Event) -> None:
    """Every 2 s: restart a dead or unreachable cosmosdb-server, then provision and seed it again."""
    while not stop.wait(SUPERVISOR_INTERVAL_SECONDS):
        if emulators.cosmos_alive():
            continue
        logger.warning("cosmosdb-server is down; restarting it on port %s", emulators.cosmos_port)
        try:
            emulators.restart_cosmos()
            reset_process_state()
            provision()
            run_seeders()
            logger.warning("cosmosdb-server restarted, provisioned and seeded")
        except Exception:
            logger.exception("restarting cosmosdb-server failed; retrying")


def _raise_keyboard_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def configure_token(parser: argparse.ArgumentParser) -> None:
    """Arguments of `token`."""
    parser.add_argument("--tenant", required=True, help="tenant id (created with its membership when absent)")
    parser.add_argument("--role", required=True, choices=[role.value for role in Role])
    parser.add_argument("--super-admin", action="store_true", help="a user listed in SUPER_ADMIN_USER_IDS")
    parser.add_argument("--user", help="user id (default: user_dev_<role>, or the first super-admin)")
    parser.add_argument("--ttl", type=int, default=3600, help="lifetime in seconds (default 3600)")


def run_token(args: argparse.Namespace) -> int:
    """Print a bearer JWT for the local app; the tenant, its org link and the membership are created if absent."""
    load_environment()
    try:
        token = mint_dev_token(
            PROJECT_ROOT,
            tenant_id=args.tenant,
            role=Role(args.role),
            super_admin=args.super_admin,
            user_id=args.user,
            ttl_seconds=args.ttl,
        )
    except DevTokenError as exc:
        print(f"devhost token: {exc}", file=sys.stderr)
        return 2
    print(token)
    return 0


COMMANDS: dict[str, Command] = {
    "serve": Command("serve function_app on 127.0.0.1:7071", configure_serve, run_serve),
    "provision": Command("create the declared Cosmos/blob/queue resources", configure_provision, run_provision),
    "dev": Command("emulators + provision + seed + serve (make dev)", configure_dev, run_dev),
    "token": Command("print a bearer JWT the local app accepts", configure_token, run_token),
}


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with one subparser per command."""
    parser = argparse.ArgumentParser(prog="python -m devhost", description=__doc__.splitlines()[0])
    subparsers = parser.add_subparsers(dest="command", required=True)
    for name, command in COMMANDS.items():
        command.configure(subparsers.add_parser(name, help=command.help, description=command.help))
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run the chosen command."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # Per-request HTTP logs of the Azure SDKs drown everything else.
    logging.getLogger("azure").setLevel(logging.WARNING)
    args = build_parser().parse_args(argv)
    # SIGTERM unwinds like Ctrl-C, so `finally` blocks stop the emulators (they run in their own process
    # groups and would otherwise outlive us). uvicorn re-raises the signals it captured to this handler.
    signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
    try:
        return COMMANDS[args.command].run(args)
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
