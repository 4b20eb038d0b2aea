"""`emqx-mock`: the fake EMQX as a standalone server, on EMQX's dashboard port by default."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from typing import Sequence

from .model.broker import EDITIONS
from .server import EmqxServer, load_bootstrap_file


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="emqx-mock",
        description="Serve a fake EMQX 5 management REST API (/api/v5) for development and tests.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: %(default)s)")
    parser.add_argument("--port", type=int, default=18083, help="port to listen on (default: %(default)s, as EMQX)")
    parser.add_argument("--edition", choices=EDITIONS, default="ce", help="EMQX edition to emulate (default: %(default)s)")
    parser.add_argument(
        "--bootstrap-api-keys",
        metavar="FILE",
        help="EMQX bootstrap API-key file, one key:secret[:role] per line; "
        "replaces the default administrator key",
    )
    parser.add_argument("--seed", type=int, help="seed for generated client data, to make it reproducible")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    options: dict[str, object] = {"host": args.host, "port": args.port, "edition": args.edition, "seed": args.seed}
    if args.bootstrap_api_keys:
        try:
            entries = load_bootstrap_file(args.bootstrap_api_keys, args.edition)
        except OSError as error:
            print(f"emqx-mock: cannot read {args.bootstrap_api_keys}: {error.strerror}", file=sys.stderr)
            return 2
        options.update(bootstrap_api_keys=entries, admin_api_key=None)
    server = EmqxServer(**options)  # type: ignore[arg-type]
    try:
        server.start()
    except OSError as error:
        print(f"emqx-mock: cannot listen on {args.host}:{args.port}: {error.strerror}", file=sys.stderr)
        return 1
    keys = [(key.api_key, key.api_secret, key.role) for key in server.broker.api_keys]
    print(f"Fake EMQX {server.broker.config.version} ({args.edition}) listening on {server.url}", flush=True)
    print(f"  REST API:        {server.api_url}")
    for api_key, api_secret, role in keys:
        print(f"  API key:         {api_key}:{api_secret}" + (f"  ({role})" if args.edition == "ee" else ""))
    print("  Dashboard user:  admin / public")
    if keys:
        print(f"  Try:             curl -u {keys[0][0]}:{keys[0][1]} {server.api_url}/clients")
    print("Press Ctrl-C to stop.", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
        print("emqx-mock stopped.", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
