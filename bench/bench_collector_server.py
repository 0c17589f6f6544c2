"""The collector's HTTP server candidates side by side: ingest from 8 senders, the same with
chunked bodies, and the same while many idle and slow clients hold connections open.

Candidates (each a fresh ``releasetag serve``-like child process over the same WSGI app):
``gateway`` (the hand-written HTTP/1.1 server before issue 23, loaded from git at
``--gateway-rev``), ``waitress`` (what the collector now uses) and ``cheroot``. Runs
alternate candidates within each round, since the machine is shared.

    python bench/bench_collector_server.py [--rounds 2] [--seconds 5] [--json]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import types
from typing import Any, Dict, List

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.bench_collector_ingest import percentile, sender, stored_events  # noqa: E402
from releasetag.protocol.dsn import Dsn  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CANDIDATES = ("gateway", "waitress", "cheroot")
SERVER_SCENARIOS = ("ingest", "chunked", "idle+slow")


def _old_gateway(rev: str) -> Any:
    """The hand-written server as it was at ``rev`` (its CollectorServer)."""
    source = subprocess.run(
        ["git", "show", f"{rev}:src/releasetag/collector/gateway.py"],
        cwd=ROOT, check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    module = types.ModuleType("releasetag.collector._old_gateway")
    module.__package__ = "releasetag.collector"
    exec(compile(source, "old_gateway.py", "exec"), module.__dict__)  # noqa: S102

    class Server(module.CollectorServer):  # type: ignore[name-defined]
        def __init__(self, address, app):
            wrapped = _whole_body(app)
            wrapped.ctx = app.ctx  # its threads close their store connection through it
            super().__init__(address, wrapped)

    return Server


def _whole_body(app: Any) -> Any:
    """A chunked body read whole and given a CONTENT_LENGTH, as the app now expects."""

    def wrapper(environ, start_response):
        chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
        if "CONTENT_LENGTH" not in environ and (chunked or environ.get("releasetag.chunked")):
            data = environ["wsgi.input"].read()
            environ["CONTENT_LENGTH"] = str(len(data))
            environ["wsgi.input"] = io.BytesIO(data)
        return app(environ, start_response)

    return wrapper


class _Cheroot:
    def __init__(self, address, app) -> None:
        from cheroot.wsgi import Server

        def local(environ, start_response):
            environ["releasetag.local_addr"] = "127.0.0.1"
            return app(environ, start_response)

        self.server = Server(address, _whole_body(local), numthreads=8)
        self.server.prepare()
        self.server_address = self.server.bind_addr[:2]

    def serve_forever(self, poll_interval: float = 0.5) -> None:
        self.server.serve()

    def shutdown(self) -> None:
        self.server.stop()

    def server_close(self) -> None:
        self.server.stop()


def child(server: str, data: str, rev: str) -> None:
    """Serve the collector's app on a free port with ``server``; print its info line."""
    from releasetag.collector import server as collector_server

    if server == "gateway":
        collector_server.CollectorServer = _old_gateway(rev)  # type: ignore[misc]
    elif server == "cheroot":
        collector_server.CollectorServer = _Cheroot  # type: ignore[misc]
    collector = collector_server.Collector(data, port=0)
    sys.setswitchinterval(0.001)  # as releasetag serve does
    print(json.dumps(collector.info.as_dict()), flush=True)
    try:
        collector.serve_forever()
    except KeyboardInterrupt:
        pass


def _hold_clients(port: int, idle: int, slow: int, stop: threading.Event) -> None:
    """``idle`` connections that send nothing, ``slow`` that send a header byte a second."""
    socks: List[socket.socket] = []
    slow_socks: List[socket.socket] = []
    for i in range(idle + slow):
        try:
            sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        except OSError:
            continue
        (slow_socks if i < slow else socks).append(sock)
    for sock in slow_socks:
        try:
            sock.sendall(b"POST /api/1/envelope/ HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        except OSError:
            pass
    while not stop.wait(1.0):
        for sock in slow_socks:
            try:
                sock.sendall(b"a")
            except OSError:
                pass
    for sock in socks + slow_socks:
        sock.close()


def run_one(server: str, scenario: str, seconds: float, senders: int, rev: str) -> Dict:
    with tempfile.TemporaryDirectory() as data:
        cmd = [sys.executable, os.path.abspath(__file__), "--child", server, "--data", data,
               "--gateway-rev", rev]  # fmt: skip
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        stop = threading.Event()
        try:
            info = json.loads(proc.stdout.readline())
            dsn = Dsn.parse(info["dsn"])
            holder = None
            if scenario == "idle+slow":
                holder = threading.Thread(target=_hold_clients, args=(dsn.port, 200, 100, stop))
                holder.start()
                time.sleep(2)  # let the connections open
            latencies: List[float] = []
            errors: List[str] = []
            start = time.monotonic()
            args = (dsn, start + seconds, latencies, errors, None, scenario == "chunked")
            threads = [threading.Thread(target=sender, args=args) for _ in range(senders)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            wall = time.monotonic() - start
            stop.set()
            if holder is not None:
                holder.join()
            stored = stored_events(info)
        finally:
            stop.set()
            proc.terminate()
            proc.wait(timeout=20)
    return {
        "server": server,
        "scenario": scenario,
        "events_per_s": round(len(latencies) / wall, 1),
        "p50_ms": round(percentile(latencies, 50) * 1000, 2),
        "p99_ms": round(percentile(latencies, 99) * 1000, 2),
        "errors": len(errors),
        "stored_ok": stored == len(latencies),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--senders", type=int, default=8)
    parser.add_argument("--servers", default=",".join(CANDIDATES))
    parser.add_argument("--scenarios", default=",".join(SERVER_SCENARIOS))
    parser.add_argument("--gateway-rev", default="4359c71")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.data, args.gateway_rev)
        return 0
    servers = args.servers.split(",")
    results = []
    for round_no in range(args.rounds):
        for scenario in args.scenarios.split(","):
            order = servers[round_no % len(servers) :] + servers[: round_no % len(servers)]
            for server in order:
                result = run_one(server, scenario, args.seconds, args.senders, args.gateway_rev)
                results.append(result)
                if args.json:
                    print(json.dumps(result), flush=True)
                else:
                    print(
                        f"{scenario:>10} {server:>9}: {result['events_per_s']:>7} events/s "
                        f"p50 {result['p50_ms']:>6} ms p99 {result['p99_ms']:>7} ms "
                        f"errors {result['errors']} stored_ok {result['stored_ok']}",
                        flush=True,
                    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
