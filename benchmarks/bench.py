"""Measure what every user pays for: what the plugin adds to every pytest run where it is
installed (collecting an empty folder with and without it, and importing it), server start and
stop, per-test reset, loading a scenario
of 10,000 clients (and a snapshot and restore of it), and a 100-row
`GET /api/v5/clients` page over 10,000 clients beside a bare Werkzeug app answering a prebuilt
body of the same size (same server class and settings, same load generator), and one client's
requests over one kept-alive connection against a new connection per request; then the broker
at scale: publishing to 1,000 subscribers, listing pages over 100,000 subscriptions and
clients, and seeding 100,000 clients with a subscription each (time and memory); and the
authorization of one publish against 1,000 ACL rules. Last, load with exact accounting:
threads sending a seeded mix of creates, deletes, kicks, bans, publishes and (un)subscribes, then
every status, counter, metric, queue and listing checked against what the accepted requests imply
(tests/load.py, which tests/test_load.py runs small).

Run: python3 benchmarks/bench.py [--seconds 1.5] [--rounds 5] [--connections 4] [--startup-runs 15]
[--startup-only] [--load-threads 16] [--load-operations 1000] [--load-only]
The load generator runs in a separate process (keep-alive connections on threads), so the
client's work does not share the server's interpreter lock.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import pytest_emqx_mock
from pytest_emqx_mock import EmqxServer
from pytest_emqx_mock.server import ServerThread

sys.path.insert(0, str(Path(__file__).parents[1] / "tests"))  # the accounting tests/test_load.py runs
import load

PAGE = "/api/v5/clients?limit=100"
AUTH = "Basic cHl0ZXN0LWVtcXgtbW9jazpweXRlc3QtZW1xeC1tb2NrLXNlY3JldA=="  # the default admin key


def _timed(action: Any, repeat: int) -> list[float]:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        samples.append(time.perf_counter() - started)
    return samples


def _python_env() -> dict[str, str]:
    """The environment of a fresh interpreter that imports this checkout of the package, with
    its bytecode cached as an installed package's is (a first run writes it)."""
    env = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = os.pathsep.join([str(Path(pytest_emqx_mock.__file__).parents[1]), *filter(None, [env.get("PYTHONPATH")])])
    return env


def _import_ms(module: str, runs: int) -> float:
    """Importing `module` after pytest, in a fresh interpreter: what pytest's start-up adds for it."""
    script = f"import pytest, time\nstarted = time.perf_counter()\nimport {module}\nprint(time.perf_counter() - started)"
    command = [sys.executable, "-c", script]
    subprocess.run(command, env=_python_env(), check=True, capture_output=True)  # warm: bytecode written
    samples = [float(subprocess.run(command, env=_python_env(), check=True, capture_output=True, text=True).stdout) for _ in range(runs)]
    return statistics.median(samples) * 1000


def _child_cpu_ms(command: list[str], cwd: str) -> float:
    """The CPU time (user + system) of one run of `command`: steadier than its wall time on a
    machine busy with other work, where the wait for a core is most of it."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(command, cwd=cwd, env=_python_env(), capture_output=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) * 1000


def pytest_startup(runs: int) -> None:
    """`pytest --co -q` on an empty folder, in a fresh interpreter each time: with every plugin
    installed, without ours (`-p no:emqx_mock`), and both again without Faker's own plugin
    (`-p no:faker`, which pytest loads wherever Faker is installed). The variants run in turn,
    `runs` rounds, so that drift in the machine's speed hits all alike; a cost is the median of
    the rounds' differences, and the ratio that of the medians. Then importing our plugin and
    Faker's alone."""
    variants = {"all": [], "no ours": ["-p", "no:emqx_mock"], "no faker": ["-p", "no:faker"], "neither": ["-p", "no:emqx_mock", "-p", "no:faker"]}
    samples: dict[str, list[float]] = {name: [] for name in variants}
    with tempfile.TemporaryDirectory() as empty:
        for round_ in range(runs + 1):  # the first round warms the caches and writes bytecode
            for name, options in variants.items():
                cpu = _child_cpu_ms([sys.executable, "-m", "pytest", "--co", "-q", "-p", "no:cacheprovider", *options], empty)
                if round_:
                    samples[name].append(cpu)

    def cost(more: str, less: str) -> str:
        added = statistics.median(a - b for a, b in zip(samples[more], samples[less], strict=True))
        ratio = statistics.median(samples[more]) / statistics.median(samples[less])
        return f"{added:.0f} ms (x{ratio:.3f})"

    median = {name: statistics.median(column) for name, column in samples.items()}
    print(f"pytest --co -q on an empty folder, CPU time (medians of {runs}): every plugin {median['all']:.0f} ms, "
          f"-p no:emqx_mock {median['no ours']:.0f} ms, -p no:faker {median['no faker']:.0f} ms, both {median['neither']:.0f} ms")
    print(f"  our plugin adds {cost('all', 'no ours')}; with -p no:faker, {cost('no faker', 'neither')}")
    print(f"  Faker's plugin adds {cost('no ours', 'neither')}")
    print(
        f"importing after pytest (medians of {runs}): pytest_emqx_mock.plugin {_import_ms('pytest_emqx_mock.plugin', runs):.1f} ms, "
        f"faker.contrib.pytest.plugin {_import_ms('faker.contrib.pytest.plugin', runs):.0f} ms"
    )


def start_stop_ms(repeat: int = 50) -> float:
    server = EmqxServer()

    def cycle() -> None:
        server.start()
        server.stop()

    cycle()  # warm imports and schema loading
    return statistics.median(_timed(cycle, repeat)) * 1000


def reset_ms(repeat: int = 5000) -> float:
    server = EmqxServer()
    return statistics.median(_timed(server.reset, repeat)) * 1000


def _load(port: int, path: str, seconds: float, connections: int, result: Any, body: bytes | None = None, close: bool = False) -> None:
    """Keep-alive requests (GET, or POST of `body`) on `connections` threads for `seconds`, or
    with `close` a new connection per request; puts the count of 200s."""
    done = []
    deadline = time.monotonic() + seconds
    method = "GET" if body is None else "POST"
    headers = {"Authorization": AUTH, "Content-Type": "application/json"}
    if close:
        headers["Connection"] = "close"  # the server closes after answering: http.client reconnects

    def worker() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port)
        count = 0
        while time.monotonic() < deadline:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            response.read()
            count += response.status == 200
        connection.close()
        done.append(count)

    threads = [threading.Thread(target=worker) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result.put(sum(done))


def served(port: int, seconds: float, connections: int, path: str = PAGE, body: bytes | None = None, close: bool = False) -> tuple[float, float]:
    """Requests per second, and the server's CPU time per request in ms: this process's while
    the load runs in another, steadier than the rate on a machine busy with other work."""
    queue: Any = multiprocessing.Queue()
    _load(port, path, 0.3, 1, queue, body)  # warm up
    queue.get()
    process = multiprocessing.Process(target=_load, args=(port, path, seconds, connections, queue, body, close))
    started = time.process_time()
    process.start()
    count = queue.get()
    process.join()
    return count / seconds, (time.process_time() - started) * 1000 / count


def requests_per_second(port: int, seconds: float, connections: int, path: str = PAGE, body: bytes | None = None) -> float:
    return served(port, seconds, connections, path, body)[0]


def keep_alive(fake_port: int, bare_port: int, seconds: float, rounds: int) -> None:
    """One client's requests in a row over one kept-alive connection, against a new connection
    per request (`Connection: close`), for the fake and for the bare app on the same server."""
    figures: dict[tuple[int, bool], list[tuple[float, float]]] = {}
    for _ in range(rounds):
        for port in (fake_port, bare_port):
            for close in (False, True):
                figures.setdefault((port, close), []).append(served(port, seconds, 1, close=close))

    def median(port: int, close: bool) -> str:
        rate, cpu = (statistics.median(column) for column in zip(*figures[port, close], strict=True))
        return f"{rate:.0f} req/s, {cpu:.2f} ms of server CPU each"

    print(f"one client, GET {PAGE}, medians of {rounds}:")
    for name, port in (("fake", fake_port), ("bare Werkzeug app", bare_port)):
        print(f"  {name}: one kept-alive connection {median(port, False)}; a new connection per request {median(port, True)}")


def bare_app(body: bytes) -> Any:
    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", [("content-type", "application/json"), ("content-length", str(len(body)))])
        return [body]

    return app


def _rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _median_ms(port: int, path: str, repeat: int = 30) -> float:
    connection = http.client.HTTPConnection("127.0.0.1", port)
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        connection.request("GET", path, headers={"Authorization": AUTH})
        response = connection.getresponse()
        response.read()
        assert response.status == 200, response.status
        samples.append(time.perf_counter() - started)
    connection.close()
    return statistics.median(samples) * 1000


def bare_post_app(reply: bytes) -> Any:
    """The least a server can do with a publish: read the body, answer a prebuilt reply."""

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        start_response("200 OK", [("content-type", "application/json"), ("content-length", str(len(reply)))])
        return [reply]

    return app


def broker_at_scale(seconds: float, rounds: int) -> None:
    with EmqxServer(seed=2) as emqx:
        emqx.add_clients(1000, subscriptions=["bench/fanout"])
        publish = json.dumps({"topic": "bench/fanout", "payload": "hello", "qos": 0}).encode()
        bare_server = ServerThread(bare_post_app(b'{"id":"0006611B6F8D1A4C8E9F000000010000"}'))
        try:
            fake_rates, bare_rates = [], []
            for _ in range(rounds):
                fake_rates.append(requests_per_second(emqx.port, seconds, 2, "/api/v5/publish", publish))
                bare_rates.append(requests_per_second(bare_server.port, seconds, 2, "/api/v5/publish", publish))
        finally:
            bare_server.stop()
        fake, bare = statistics.median(fake_rates), statistics.median(bare_rates)
        print(f"POST /api/v5/publish to 1000 matching subscribers: {fake:.0f} publishes/s (median of {rounds})")
        print(f"bare Werkzeug app reading the same POST, same server: {bare:.0f} req/s (fake: {fake / bare:.0%})")
    with EmqxServer(seed=3) as emqx:
        before, started = _rss_mb(), time.perf_counter()
        for index in range(100_000):
            emqx.add_client(f"device-{index:06d}", subscriptions=[f"devices/{index % 5000}/cmd"])
        elapsed, grown = time.perf_counter() - started, _rss_mb() - before
        print(f"seeding 100000 clients with a subscription each: {elapsed:.2f} s, +{grown:.0f} MB resident")
        page = _median_ms(emqx.port, "/api/v5/subscriptions?limit=100")
        print(f"GET /api/v5/subscriptions?limit=100 over 100000 subscriptions: {page:.1f} ms (median)")
        fuzzy = _median_ms(emqx.port, "/api/v5/clients?like_clientid=device-0999&limit=100")
        print(f"GET /api/v5/clients?like_clientid=... over 100000 clients: {fuzzy:.1f} ms (median)")


def journal_and_faults_overhead(emqx: EmqxServer, http_rate: float, repeat: int = 2000) -> None:
    """What the journal and the fault check cost a request when no fault is set: the app
    called in-process (no HTTP noise) as shipped, against the same app with the journal's
    entry neither built nor recorded and no fault lookup; the difference set against the
    time of a whole request over HTTP (the figure the target is about) and of the app alone."""
    from werkzeug.test import EnvironBuilder

    from pytest_emqx_mock.http import app as app_module

    app = emqx.app
    environ = EnvironBuilder(path=PAGE, headers={"Authorization": AUTH}).get_environ()

    def one_call() -> None:
        list(app(dict(environ), lambda status, headers: None))

    def per_call_us() -> float:
        one_call()
        return statistics.median(_timed(one_call, repeat)) * 1e6

    shipped: list[float] = []
    bare: list[float] = []
    entry_class, record = app_module.JournalEntry, app.journal.record
    try:
        for _ in range(5):  # alternate, so drift in the machine's speed hits both alike
            shipped.append(per_call_us())
            app_module.JournalEntry = lambda **fields: None  # type: ignore[assignment,misc]
            app.journal.record = lambda entry: None  # type: ignore[method-assign]
            bare.append(per_call_us())
            app_module.JournalEntry, app.journal.record = entry_class, record  # type: ignore[method-assign]
    finally:
        app_module.JournalEntry, app.journal.record = entry_class, record  # type: ignore[method-assign]
    cost = statistics.median(shipped) - statistics.median(bare)
    request_us = 1e6 / http_rate
    print(
        f"journal + fault check, no fault set: {cost:.1f} us per request "
        f"({cost / request_us:.1%} of a {request_us:.0f} us request over HTTP; "
        f"{cost / statistics.median(shipped):.1%} of the app's own {statistics.median(shipped):.0f} us)"
    )


def fleet_scenario(clients: int) -> dict[str, Any]:
    """A hand-written-like scenario: clients with an address, a username, two subscriptions,
    and one in ten away with two messages queued."""
    rows = []
    for index in range(clients):
        row: dict[str, Any] = {
            "clientid": f"device-{index:05d}",
            "username": f"fleet-{index % 50}",
            "ip_address": f"10.{index >> 16 & 255}.{index >> 8 & 255}.{index & 255}",
            "created_at": "2025-03-01T08:00:00Z",
            "subscriptions": [{"topic": f"devices/{index}/cmd", "qos": 1}, "fleet/broadcast"],
        }
        if index % 10 == 0:
            row.update(connected=False, clean_start=False, expiry_interval=7200, mqueue=["reboot", {"payload": "update", "qos": 1}])
        rows.append(row)
    return {"version": 1, "clients": rows}


def scenario_loading(clients: int = 10_000, repeat: int = 3) -> None:
    """Loading a scenario of `clients` clients from a dict and from a JSON file (the target:
    well under 1 s), then a snapshot of it, a restore, and a save to a state file."""
    scenario = fleet_scenario(clients)
    server = EmqxServer()
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "fleet.json")
        with open(path, "w") as file:
            json.dump(scenario, file)
        from_dict = statistics.median(_timed(lambda: server.load_scenario(scenario), repeat))
        from_file = statistics.median(_timed(lambda: server.load_scenario(path), repeat))
        saved: dict[str, Any] = {}
        snapshot = statistics.median(_timed(lambda: saved.update(server.snapshot()), repeat))
        restore = statistics.median(_timed(lambda: server.restore(saved), repeat))
        save = statistics.median(_timed(lambda: server.save_state(os.path.join(directory, "state.json")), repeat))
    print(
        f"scenario of {clients} clients: load {from_dict:.2f} s from a dict, {from_file:.2f} s from a JSON file; "
        f"snapshot {snapshot:.2f} s, restore {restore:.2f} s, save_state {save:.2f} s (medians of {repeat})"
    )


def authn_users_page(users: int = 100_000) -> None:
    """One 100-row page of built-in database users out of `users` (the target: under 50 ms),
    the first page and one deep in the list, after a change that reorders the listing."""
    with EmqxServer() as emqx:
        emqx.add_authenticator()
        started = time.perf_counter()
        for index in range(users):
            emqx.add_authn_user(f"user{index:06d}", "secret")
        seeding = time.perf_counter() - started
        users_path = "/api/v5/authentication/password_based:built_in_database/users?limit=100"
        first = _median_ms(emqx.port, users_path)
        deep = _median_ms(emqx.port, users_path + f"&page={users // 200}")
        emqx.add_authn_user("zz-new", "secret")  # the listing is rebuilt once after a change
        after_change = _median_ms(emqx.port, users_path, repeat=1)
    print(
        f"built-in users: {users} seeded in {seeding:.2f} s; a 100-row page: first {first:.1f} ms, "
        f"page {users // 200} {deep:.1f} ms (medians of 30), first after a new user {after_change:.1f} ms"
    )


def authz_check_ms(rules: int = 1000, repeat: int = 2000) -> None:
    """One client's publish checked against `rules` built-in database rules, the cache off so
    every publish runs the rules (the target: under 1 ms). Three shapes, the last rule being the
    match: rules that differ in a literal word, rules that all start `devices/+/`, and rules
    that all start with the client's own id (`${clientid}/+/`)."""
    from pytest_emqx_mock.state.authz import PUBLISH, Access

    shapes = (("distinct topics", "devices/{}/state"), ("one shared prefix", "devices/+/{}"), ("placeholders", "${{clientid}}/+/{}"))
    for shape, template in shapes:
        with EmqxServer() as emqx:
            emqx.add_authz_source("built_in_database")
            emqx.set_authz_settings(cache={"enable": False})
            emqx.add_authz_rules([{"topic": template.format(i), "permission": "allow", "action": "publish"} for i in range(rules)])
            session = emqx.add_client("sender")
            topic = template.format(rules - 1).replace("+", "x").replace("${clientid}", "sender")
            access = Access(PUBLISH, 1)
            authz = emqx.broker.authz
            assert authz.authorize(session, access, topic).result == "allow"
            samples = _timed(lambda: authz.authorize(session, access, topic), repeat)  # noqa: B023 (called at once)
        print(f"authorizing a publish against {rules} ACL rules ({shape}, last one matches): {statistics.median(samples) * 1000:.3f} ms (median of {repeat})")


def load_accounting(threads: int, operations: int) -> None:
    """The load of tests/test_load.py, larger. The threads share the server's interpreter: the
    rate is the fake's under its own lock, not a throughput to compare with the rates above."""
    with EmqxServer(seed=1) as emqx:
        started = time.perf_counter()
        done = load.run(emqx, threads, operations)
        elapsed = time.perf_counter() - started
        lost = load.lost_updates(emqx, done)
        assert not emqx.errors, emqx.errors
    print(f"load: {done.requests} requests by {threads} threads (kept-alive connections) in {elapsed:.1f} s: {done.requests / elapsed:.0f} req/s")
    print(f"lost updates: {len(lost)}")
    for difference in lost:
        print(f"  {difference}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=1.5, help="load duration of one round")
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds of fake and bare")
    parser.add_argument("--connections", type=int, default=4, help="concurrent keep-alive connections")
    parser.add_argument("--clients", type=int, default=10_000, help="seeded clients")
    parser.add_argument("--startup-runs", type=int, default=15, help="pytest start-ups measured per variant")
    parser.add_argument("--startup-only", action="store_true", help="measure only what the plugin adds to pytest's start-up")
    parser.add_argument("--load-threads", type=int, default=16, help="threads of the load with exact accounting")
    parser.add_argument("--load-operations", type=int, default=1000, help="requests per thread of that load")
    parser.add_argument("--load-only", action="store_true", help="run only the load with exact accounting")
    args = parser.parse_args()

    if args.load_only:
        load_accounting(args.load_threads, args.load_operations)
        return

    pytest_startup(args.startup_runs)
    if args.startup_only:
        return

    print(f"server start + stop: {start_stop_ms():.2f} ms (median of 50)")
    print(f"reset, default state: {reset_ms():.4f} ms (median of 5000)")
    scenario_loading()
    authn_users_page()
    authz_check_ms()

    with EmqxServer(seed=1) as emqx:
        started = time.perf_counter()
        emqx.add_clients(args.clients)
        print(f"seeding {args.clients} clients: {time.perf_counter() - started:.2f} s")
        connection = http.client.HTTPConnection("127.0.0.1", emqx.port)
        connection.request("GET", PAGE, headers={"Authorization": AUTH})
        body = connection.getresponse().read()
        connection.close()
        bare_server = ServerThread(bare_app(body))
        try:
            # Alternate short rounds so that drift in the machine's speed hits both alike.
            fake_rates, bare_rates = [], []
            for _ in range(args.rounds):
                fake_rates.append(requests_per_second(emqx.port, args.seconds, args.connections))
                bare_rates.append(requests_per_second(bare_server.port, args.seconds, args.connections))
            keep_alive(emqx.port, bare_server.port, args.seconds, args.rounds)
        finally:
            bare_server.stop()
        journal_and_faults_overhead(emqx, statistics.median(fake_rates))
        assert not emqx.errors, emqx.errors
    fake, bare = statistics.median(fake_rates), statistics.median(bare_rates)
    ratios = [f / b for f, b in zip(fake_rates, bare_rates, strict=True)]
    print(f"GET {PAGE} over {args.clients} clients ({len(body)} bytes), validation on: {fake:.0f} req/s (median of {args.rounds})")
    print(f"bare Werkzeug app, same body and server:  {bare:.0f} req/s (median of {args.rounds})")
    print(f"fake / bare: {fake / bare:.0%} (round by round: {', '.join(f'{r:.0%}' for r in ratios)})")
    broker_at_scale(args.seconds, args.rounds)
    load_accounting(args.load_threads, args.load_operations)


if __name__ == "__main__":
    main()
