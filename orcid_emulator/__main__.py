"""Run the emulator in the foreground::

    python -m orcid_emulator --port 8090 --client-id APP-DEMO --client-secret demo-secret \\
        --redirect-uri http://localhost:8000/accounts/
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

from .keys import SigningKey
from .server import EmulatorServer
from .state import Client

DEFAULT_REDIRECT_URIS = ("http://localhost:8000/", "http://127.0.0.1:8000/")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m orcid_emulator", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1", help="bind address (default: %(default)s)")
    parser.add_argument("--port", type=int, default=8090, help="port, 0 for any free one (default: %(default)s)")
    parser.add_argument("--client-id", default="APP-DEMO", help="client to register (default: %(default)s)")
    parser.add_argument("--client-secret", default="demo-secret", help="its secret (default: %(default)s)")
    parser.add_argument("--client-name", default="Demo application", help="name shown on the consent page")
    parser.add_argument(
        "--redirect-uri",
        action="append",
        dest="redirect_uris",
        metavar="URI",
        help="registered redirect URI or prefix; repeatable "
        f"(default: {' and '.join(DEFAULT_REDIRECT_URIS)})",
    )
    parser.add_argument("--issuer", help="advertised base URL if it differs from http://HOST:PORT")
    parser.add_argument(
        "--key-file",
        type=Path,
        help="PEM RSA private key for signing ID tokens; created if missing, so the kid survives restarts",
    )
    parser.add_argument("--no-demo-records", action="store_true", help="start without the three demo records")
    parser.add_argument("--quiet", action="store_true", help="do not log requests")
    return parser


def load_key(path: Path | None) -> SigningKey | None:
    if path is None:
        return None
    if path.exists():
        return SigningKey.from_pem(path.read_bytes())
    key = SigningKey.generate()
    path.write_bytes(key.to_pem())
    path.chmod(0o600)
    return key


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    client = Client(
        args.client_id,
        args.client_secret,
        redirect_uris=args.redirect_uris or DEFAULT_REDIRECT_URIS,
        name=args.client_name,
    )
    server = EmulatorServer(
        args.host,
        args.port,
        clients=[client],
        records=[] if args.no_demo_records else None,
        signing_key=load_key(args.key_file),
        issuer=args.issuer,
        quiet=args.quiet,
    )
    stopped = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stopped.set()

    # SIGTERM (docker stop, process managers) should shut down as cleanly as Ctrl-C.
    signal.signal(signal.SIGTERM, on_signal)
    server.start()
    try:
        print(f"ORCID emulator running at {server.base_url}", flush=True)
        print(f"  discovery: {server.discovery_url}")
        print(f"  client:    {client.client_id} / {client.client_secret}")
        for uri in client.redirect_uris:
            print(f"  redirect:  {uri}")
        print("  records:")
        for record in server.state.records():
            email = f" <{record.email}>" if record.email else ""
            print(f"    {record.orcid}  {record.name}{email}")
        print("Press Ctrl-C to stop.", flush=True)
        stopped.wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
