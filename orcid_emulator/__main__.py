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
from .ratelimit import DEFAULT_RATE_LIMIT, LIMIT_STATUSES, RateLimitConfig
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
    limits = parser.add_argument_group("rate limits for /v3.0/ (token bucket, like ORCID's)")
    limits.add_argument("--no-rate-limit", action="store_true", help="do not throttle API calls")
    limits.add_argument("--member-rate", type=float, default=DEFAULT_RATE_LIMIT.member_rate,
                        help="requests per second per member client (default: %(default)s)")
    limits.add_argument("--member-burst", type=int, default=DEFAULT_RATE_LIMIT.member_burst,
                        help="burst per member client (default: %(default)s)")
    limits.add_argument("--anonymous-rate", type=float, default=DEFAULT_RATE_LIMIT.anonymous_rate,
                        help="requests per second per address without a token (default: %(default)s)")
    limits.add_argument("--anonymous-burst", type=int, default=DEFAULT_RATE_LIMIT.anonymous_burst,
                        help="burst per address without a token (default: %(default)s)")
    limits.add_argument("--rate-limit-status", type=int, choices=LIMIT_STATUSES, default=DEFAULT_RATE_LIMIT.status,
                        help="status when over the limit (default: %(default)s, as ORCID's nginx)")
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


def rate_limit_from(args: argparse.Namespace, parser: argparse.ArgumentParser) -> RateLimitConfig | None:
    if args.no_rate_limit:
        return None
    try:
        return RateLimitConfig(
            member_rate=args.member_rate,
            member_burst=args.member_burst,
            anonymous_rate=args.anonymous_rate,
            anonymous_burst=args.anonymous_burst,
            status=args.rate_limit_status,
        )
    except ValueError as exc:
        parser.error(str(exc))


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    rate_limit = rate_limit_from(args, parser)
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
        rate_limit=rate_limit,
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
        if rate_limit is None:
            print("  limits:    none")
        else:
            print(
                f"  limits:    {rate_limit.member_rate:g}/s burst {rate_limit.member_burst} per client, "
                f"{rate_limit.anonymous_rate:g}/s burst {rate_limit.anonymous_burst} anonymous, "
                f"then {rate_limit.status}"
            )
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
