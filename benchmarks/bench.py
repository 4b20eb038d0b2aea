"""Measure what every user pays for: server start and stop, per-test reset, and a 100-row
`GET /api/v5/clients` page over 10,000 clients beside a bare Werkzeug app answering a prebuilt
body of the same size (same server class and settings, same load generator).

Run: python benchmarks/bench.py [--seconds 3] [--connections 4]
The load generator runs in a separate process (keep-alive connections on threads), so the
client's work does not share the server's interpreter lock.
"""

from __future__ import annotations

import argparse
import http.client
import multiprocessing
import statistics
import threading
import time
from typing import Any

from pytest_emqx_mock import EmqxServer
from pytest_emqx_mock.server import ServerThread

PAGE = "/api/v5/clients?limit=100"
AUTH = "Basic cHl0ZXN0LWVtcXgtbW9jazpweXRlc3QtZW1xeC1tb2NrLXNlY3JldA=="  # the default admin key


def _timed(action: Any, repeat: int) -> list[float]:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        samples.append(time.perf_counter() - started)
    return samples


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


def _load(port: int, path: str, seconds: float, connections: int, result: Any) -> None:
    """Keep-alive GETs on `connections` threads for `seconds`; puts the count of 200s."""
    done = []
    deadline = time.monotonic() + seconds

    def worker() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port)
        count = 0
        while time.monotonic() < deadline:
            connection.request("GET", path, headers={"Authorization": AUTH})
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


def requests_per_second(port: int, seconds: float, connections: int) -> float:
    queue: Any = multiprocessing.Queue()
    _load(port, PAGE, 0.3, 1, queue)  # warm up
    queue.get()
    process = multiprocessing.Process(target=_load, args=(port, PAGE, seconds, connections, queue))
    process.start()
    count = queue.get()
    process.join()
    return count / seconds


def bare_app(body: bytes) -> Any:
    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", [("content-type", "application/json"), ("content-length", str(len(body)))])
        return [body]

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=1.5, help="load duration of one round")
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds of fake and bare")
    parser.add_argument("--connections", type=int, default=4, help="concurrent keep-alive connections")
    parser.add_argument("--clients", type=int, default=10_000, help="seeded clients")
    args = parser.parse_args()

    print(f"server start + stop: {start_stop_ms():.2f} ms (median of 50)")
    print(f"reset, default state: {reset_ms():.4f} ms (median of 5000)")

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
        finally:
            bare_server.stop()
        assert not emqx.errors, emqx.errors
    fake, bare = statistics.median(fake_rates), statistics.median(bare_rates)
    ratios = [f / b for f, b in zip(fake_rates, bare_rates, strict=True)]
    print(f"GET {PAGE} over {args.clients} clients ({len(body)} bytes), validation on: {fake:.0f} req/s (median of {args.rounds})")
    print(f"bare Werkzeug app, same body and server:  {bare:.0f} req/s (median of {args.rounds})")
    print(f"fake / bare: {fake / bare:.0%} (round by round: {', '.join(f'{r:.0%}' for r in ratios)})")


if __name__ == "__main__":
    main()
