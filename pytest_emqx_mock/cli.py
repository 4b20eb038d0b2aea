"""`emqx-mock`: the fake EMQX as a standalone server, on EMQX's dashboard port by default."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import warnings
from pathlib import Path
from typing import Callable, Sequence

from . import __version__
from .coverage import coverage_report, print_coverage
from .flavours import DEPLOYMENTS, FLAVOUR_NAMES, flavour_list
from .scripting.scenario import (
    Doors,
    ScenarioError,
    doors,
    file_format,
    locate,
    packaged,
    read,
)
from .server import EmqxServer, PortInUse, load_bootstrap_file
from .state.broker import EDITIONS
from .versions import DEFAULT_VERSION, VERSIONS, edition_at


def _flavours(text: str) -> list[str]:
    try:
        return flavour_list(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def scenario_doors(source: str) -> Doors | None:
    """The doors the `--seed` scenario names (`flavour`, `deployment`), if any."""
    return doors(*read(locate(source, (Path.cwd(),))))


def default_port(flavours: Sequence[str]) -> int:
    """EMQX's dashboard port, EMQX 4's management listener's (8081) when only v4 is served, or
    a Cloud deployment's API port (8443) when only Cloud flavours (the Platform's too) are."""
    if list(flavours) == ["v4"]:
        return 8081
    return 8443 if all(name.startswith("cloud-") or name == "platform" for name in flavours) else 18083


def _credential(form: str) -> Callable[[str], tuple[str, str]]:
    """An option's `NAME:SECRET` pair, `form` saying its words."""

    def parse(text: str) -> tuple[str, str]:
        name, colon, secret = text.partition(":")
        if not (name and colon and secret):
            raise argparse.ArgumentTypeError(f"must be {form}, not {text!r}")
        return name, secret

    return parse


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="emqx-mock",
        description="Serve a fake EMQX management REST API (EMQX 5's /api/v5, EMQX 4.4's /api/v4) for development and tests.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: %(default)s)")
    parser.add_argument(
        "--port",
        type=int,
        default=None,
        help="port to listen on (default: 18083, as EMQX's dashboard; 8081, as EMQX 4's management listener, "
        "when only v4 is served; 0 picks a free one, shown at start)",
    )
    parser.add_argument(
        "--flavour",
        type=_flavours,
        help=f"the front doors to serve: {', '.join(FLAVOUR_NAMES)} (EMQX 5's /api/v5, the default; EMQX 4.4's "
        "/api/v4; EMQX Cloud deployments at /api and /api/v5, over HTTPS), or several separated by commas; "
        "by default those the --seed scenario names in its flavour key, else v5",
    )
    parser.add_argument(
        "--https",
        action="store_true",
        default=None,
        help="serve HTTPS, with a certificate for localhost and 127.0.0.1 made at start unless --certfile is given; "
        "the CA file to verify it with is shown at start (curl --cacert FILE)",
    )
    parser.add_argument("--certfile", metavar="FILE", help="with --https: the server's certificate (PEM), its key in it or in --keyfile")
    parser.add_argument("--keyfile", metavar="FILE", help="with --https: the private key of --certfile (PEM)")
    parser.add_argument(
        "--app",
        type=_credential("ID:SECRET"),
        metavar="ID:SECRET",
        help="the application every reset starts with: EMQX 4's default app (admin:public unless given), "
        "a Cloud deployment's App ID and App Secret (none unless given)",
    )
    parser.add_argument(
        "--platform-key",
        type=_credential("KEY:SECRET"),
        metavar="KEY:SECRET",
        help="the EMQX Platform API key every reset starts with (the platform flavour has none unless given)",
    )
    parser.add_argument(
        "--deployment",
        choices=DEPLOYMENTS,
        help="the kind of a cloud-v5 deployment: dedicated (the whole EMQX 5 API, the default) or serverless "
        "(by default the --seed scenario's deployment key)",
    )
    parser.add_argument(
        "--emqx-version",
        choices=VERSIONS,
        default=DEFAULT_VERSION,
        help="EMQX version to emulate (default: %(default)s; from 6.0 one edition, the enterprise build)",
    )
    parser.add_argument("--edition", choices=EDITIONS, help="EMQX edition to emulate at 5.8 (default: ce)")
    parser.add_argument(
        "--bootstrap-api-keys",
        metavar="FILE",
        help="EMQX bootstrap API-key file, one key:secret[:role] per line; "
        "replaces the default administrator key",
    )
    parser.add_argument("--random-seed", type=int, metavar="N", help="seed for generated client data, to make it reproducible")
    parser.add_argument("--seed", metavar="FILE|NAME", help=f"load a scenario file (.json, .yaml, .yml) or a packaged one ({', '.join(packaged())}) at start")
    parser.add_argument(
        "--state",
        metavar="FILE",
        help="keep the state across restarts: load FILE at start if it exists (after --seed), "
        "and save the state to it on exit",
    )
    parser.add_argument(
        "-v",
        "--log-requests",
        action="store_true",
        help="print a line on stdout for each request: method, path, status, time taken, the fault that met it",
    )
    parser.add_argument(
        "--cors",
        action="store_true",
        help="as EMQX's dashboard.cors = true: Access-Control-Allow-Origin: * on every answer to a request "
        "with an Origin header (EMQX answers no preflight: OPTIONS stays a 405)",
    )
    parser.add_argument(
        "--no-swagger-support",
        dest="swagger_support",
        action="store_false",
        help="as EMQX's dashboard.swagger_support = false: no OpenAPI document at /api-docs/swagger.json "
        "and no page at /api-docs/index.html (both 404)",
    )
    parser.add_argument(
        "--no-control-api",
        dest="control_api",
        action="store_false",
        help="do not serve the control API (/_mock: seeding, faults, journal, snapshot, reset)",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", help="without one, serve the fake")
    coverage = commands.add_parser(
        "coverage",
        help="list every operation of the EMQX 5.8.1 CE and EE specs (by tag) and of EMQX 4.4.19 (by module), "
        "served or not, with totals, and the Cloud doors' totals",
    )
    coverage.add_argument("--json", action="store_true", help="print the report as JSON")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        args.edition = edition_at(args.emqx_version, args.edition)
    except ValueError as error:  # `--edition ce` with a 6.x version
        parser.error(str(error))
    if args.command == "coverage":
        print_coverage(coverage_report(), args.json)
        return 0
    try:
        wanted = scenario_doors(args.seed) if args.seed else None
    except ScenarioError as error:
        print(f"emqx-mock: {error}", file=sys.stderr)
        return 2
    if args.flavour is None:
        args.flavour = list(wanted.flavours) if wanted else [FLAVOUR_NAMES[0]]
    if args.deployment is None:
        args.deployment = wanted.deployment if wanted else DEPLOYMENTS[0]
    if args.port is None:
        args.port = default_port(args.flavour)
    options: dict[str, object] = {
        "host": args.host,
        "port": args.port,
        "flavour": args.flavour,
        "edition": args.edition,
        "version": args.emqx_version,
        "seed": args.random_seed,
        "control_api": args.control_api,
        "cors": args.cors,
        "swagger_support": args.swagger_support,
        "request_log": sys.stdout if args.log_requests else None,
        "https": args.https or (True if args.certfile else None),  # a certificate given means HTTPS
        "cert_file": args.certfile,
        "key_file": args.keyfile,
        "app": args.app,
        "deployment": args.deployment,
        "platform_key": args.platform_key,
    }
    if args.bootstrap_api_keys:
        try:
            with warnings.catch_warnings(record=True) as problems:
                warnings.simplefilter("always")
                entries = load_bootstrap_file(args.bootstrap_api_keys, args.edition)
        except OSError as error:
            print(f"emqx-mock: cannot read {args.bootstrap_api_keys}: {error.strerror}", file=sys.stderr)
            return 2
        except UnicodeDecodeError as error:
            print(f"emqx-mock: cannot read {args.bootstrap_api_keys}: not UTF-8 ({error.reason} at byte {error.start})", file=sys.stderr)
            return 2
        for problem in problems:  # what EMQX logs, and it starts all the same
            print(f"emqx-mock: warning: {problem.message}", file=sys.stderr, flush=True)
        options.update(bootstrap_api_keys=entries, admin_api_key=None)
    try:
        server = EmqxServer(**options)  # type: ignore[arg-type]
    except (OSError, ValueError) as error:  # a certificate that cannot be used (ssl.SSLError is an OSError)
        print(f"emqx-mock: {error}", file=sys.stderr)
        return 2
    restored = bool(args.state) and Path(args.state).exists()
    try:
        if args.state:
            file_format(args.state)  # a state file it could not write fails now, not on exit
        if args.seed:
            server.load_scenario(args.seed)
        if restored:
            server.load_scenario(args.state)
    except ScenarioError as error:
        print(f"emqx-mock: {error}", file=sys.stderr)
        return 2
    try:
        server.start()
    except PortInUse:
        print(f"emqx-mock: cannot listen on {args.host}:{args.port}: the port is in use; choose another with --port, or --port 0 for a free one", file=sys.stderr)
        return 1
    except OSError as error:
        print(f"emqx-mock: cannot listen on {args.host}:{args.port}: {error.strerror}", file=sys.stderr)
        return 1
    # Both signals raise KeyboardInterrupt, set explicitly: a non-interactive shell starts a
    # background job with SIGINT ignored, and Python then installs no handler of its own. (A
    # handler setting an Event could deadlock on the lock of the Event the main thread waits on.)
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, signal.default_int_handler)
    try:
        _print_banner(server, args, restored)
        # Printed inside the try: a script may stop the server the moment this line shows.
        print("Press Ctrl-C to stop.", flush=True)
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):  # a second signal must not cut the save short
            signal.signal(signum, signal.SIG_IGN)
        server.stop()
        saved = _save_state(server, args.state) if args.state else True
        print("emqx-mock stopped.", flush=True)
    return 0 if saved else 1


def _print_banner(server: EmqxServer, args: argparse.Namespace, restored: bool) -> None:
    keys = [(key.api_key, key.api_secret, key.role) for key in server.broker.api_keys]
    print(f"Fake EMQX {server.broker.config.release} ({args.edition}) listening on {server.url}", flush=True)
    print(f"  REST API:        {server.api_url}")
    if server.ca_file:
        print(f"  CA certificate:  {server.ca_file}  (verify with it: curl --cacert {server.ca_file} ...)")
    for flavour in server.app.flavours[1:]:
        print(f"  REST API:        {server.url}{flavour.prefix}")
    if "v5" in args.flavour:
        for api_key, api_secret, role in keys:
            print(f"  API key:         {api_key}:{api_secret}" + (f"  ({role})" if args.edition == "ee" else ""))
        print("  Dashboard user:  admin / public")
    if any(name in ("v4", "cloud-v4", "cloud-v5") for name in args.flavour):
        for app in server.broker.apps:
            print(f"  AppID:           {app.app_id}:{app.secret}")
        if not len(server.broker.apps):
            print("  AppID:           none: every call is refused; give one with --app ID:SECRET (or --seed, or the control API)")
    if "platform" in args.flavour:
        for key in server.broker.platform.keys.values():
            print(f"  Platform key:    {key.key}:{key.secret}")
        if not server.broker.platform.keys:
            print("  Platform key:    none: every call is refused; give one with --platform-key KEY:SECRET (or --seed, or the control API)")
    if args.control_api:
        print(f"  Control API:     {server.control_url}  (no credentials)")
    if args.seed:
        print(f"  Scenario:        {args.seed}")
    if args.state:
        print(f"  State file:      {args.state}  ({'loaded, ' if restored else ''}saved on exit)")
    credentials = {
        "v5": [f"{key}:{secret}" for key, secret, _ in keys],
        "platform": [f"{key.key}:{key.secret}" for key in server.broker.platform.keys.values()],
    }.get(args.flavour[0], [f"{app.app_id}:{app.secret}" for app in server.broker.apps])
    if credentials:
        verify = f"--cacert {server.ca_file} " if server.ca_file else ""
        resource = "deployments" if args.flavour[0] == "platform" else "clients"
        print(f"  Try:             curl {verify}-u {credentials[0]} {server.api_url}/{resource}")
    if args.log_requests:
        print("  Request log:     on, one line per request below")


def _save_state(server: EmqxServer, path: str) -> bool:
    try:
        server.save_state(path)
    except (OSError, TypeError, ValueError) as error:  # the file as it was: the write is atomic
        print(f"emqx-mock: cannot save the state to {path}: {error}", file=sys.stderr)
        return False
    print(f"State saved to {path}.", flush=True)
    return True


if __name__ == "__main__":
    sys.exit(main())
