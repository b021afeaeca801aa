"""Servers on loopback and the load that is sent to them: sequential latency, wrk, and SSE fan-out.

Every request goes to 127.0.0.1 only, and every loop is bounded in count and time.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx

from bench.serve import raise_open_files
from bench.stats import summary_ms

LOOPBACK = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind((LOOPBACK, 0))
        return int(s.getsockname()[1])


def peak_rss_mib(pid: int) -> float | None:
    """The process's RSS high-water mark (VmHWM), in MiB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return None


class Server:
    """`python -m bench.serve KIND PORT` in a subprocess, stopped with SIGTERM."""

    def __init__(self, kind: str, env: dict[str, str], ready_path: str, log_dir: Path) -> None:
        self.kind = kind
        self.port = free_port()
        self.base = f"http://{LOOPBACK}:{self.port}"
        self.log_path = log_dir / f"server-{kind}-{self.port}.log"
        self._log = self.log_path.open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bench.serve", kind, str(self.port)],
            env={**os.environ, **env}, stdout=self._log, stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 120
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"{kind} server exited: {self.log_path.read_text()[-2000:]}")
            try:
                if httpx.get(self.base + ready_path, timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"{kind} server did not answer within 120 s")
            time.sleep(0.2)

    def peak_rss_mib(self) -> float | None:
        return peak_rss_mib(self.process.pid)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()


# -- latency of one request at a time -----------------------------------------------------------------


def sequential_latency(base: str, paths: list[str]) -> dict[str, Any]:
    """Each path once, one after another, on one keep-alive connection."""
    times, statuses = [], set()
    with httpx.Client(base_url=base, timeout=30) as client:
        client.get(paths[0])  # the connection, opened before the clock starts
        for path in paths:
            start = time.perf_counter()
            response = client.get(path)
            response.read()
            times.append(time.perf_counter() - start)
            statuses.add(response.status_code)
    return summary_ms(times) | {"statuses": sorted(statuses)}


# -- requests per second under load -------------------------------------------------------------------

WRK_SCRIPT = """
paths = {%s}
counter = 0
request = function()
  counter = counter + 1
  return wrk.format("GET", paths[(counter %% #paths) + 1])
end
"""


def _wrk_latency_ms(text: str, label: str) -> float | None:
    match = re.search(rf"^\s*{label}%\s+([\d.]+)(us|ms|s)\s*$", text, re.MULTILINE)
    if not match:
        return None
    value, unit = float(match.group(1)), match.group(2)
    return round(value / 1000 if unit == "us" else value * 1000 if unit == "s" else value, 3)


def wrk(base: str, paths: list[str], *, seconds: int, connections: int, threads: int = 1) -> dict[str, Any]:
    """wrk, cycling through `paths`; requests/s and latency percentiles as wrk reports them."""
    script = WRK_SCRIPT % ", ".join(json.dumps(p) for p in paths)
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(script)
    try:
        done = subprocess.run(
            ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", f.name, base],
            capture_output=True, text=True, timeout=seconds + 60, check=True,
        )
    finally:
        os.unlink(f.name)
    text = done.stdout
    rps = re.search(r"Requests/sec:\s+([\d.]+)", text)
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    errors = re.search(r"Socket errors:.*", text)
    total = re.search(r"(\d+) requests in ([\d.]+)(ms|s|m)", text)
    ok_per_s = None
    if total and rps:
        # wrk counts error answers as requests: the rate of good answers is what a client gets.
        failed = int(non2xx.group(1)) if non2xx else 0
        ok_per_s = round(float(rps.group(1)) * (int(total.group(1)) - failed) / max(int(total.group(1)), 1), 1)
    return {
        "generator": "wrk", "seconds": seconds, "connections": connections, "threads": threads,
        "requests_per_s": float(rps.group(1)) if rps else None, "ok_per_s": ok_per_s,
        "p50_ms": _wrk_latency_ms(text, "50"), "p99_ms": _wrk_latency_ms(text, "99"),
        "non_2xx": int(non2xx.group(1)) if non2xx else 0, "socket_errors": errors.group(0) if errors else None,
    }


async def _httpx_load(base: str, paths: list[str], seconds: int, connections: int) -> dict[str, Any]:
    deadline = time.perf_counter() + seconds
    times: list[float] = []
    failures = 0

    async def worker(offset: int, client: httpx.AsyncClient) -> None:
        nonlocal failures
        i = offset
        while time.perf_counter() < deadline:
            start = time.perf_counter()
            response = await client.get(paths[i % len(paths)])
            times.append(time.perf_counter() - start)
            failures += response.status_code >= 400
            i += connections

    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as client:
        began = time.perf_counter()
        await asyncio.gather(*(worker(i, client) for i in range(connections)))
        elapsed = time.perf_counter() - began
    return {"generator": "httpx-asyncio", "seconds": seconds, "connections": connections,
            "requests_per_s": round(len(times) / elapsed, 1), "non_2xx": failures,
            "ok_per_s": round((len(times) - failures) / elapsed, 1)} | {
        k: v for k, v in summary_ms(times).items() if k in ("p50_ms", "p99_ms")}


def requests_per_second(base: str, paths: list[str], *, seconds: int, connections: int) -> dict[str, Any]:
    """wrk when it is installed (apt-get install wrk); a Python asyncio generator otherwise."""
    if shutil.which("wrk"):
        return wrk(base, paths, seconds=seconds, connections=connections)
    return asyncio.run(_httpx_load(base, paths, seconds, connections))


# -- one event reaching many subscribers --------------------------------------------------------------

Trigger = Callable[[httpx.AsyncClient, int], Awaitable[int]]


async def _fanout(base: str, stream_path: str, trigger: Trigger, subscribers: int, events: int,
                  ready_timeout: float) -> dict[str, Any]:
    received: list[dict[int, float]] = [{} for _ in range(subscribers)]
    ready = 0
    all_ready = asyncio.Event()
    stop = asyncio.Event()

    async def subscriber(i: int, client: httpx.AsyncClient) -> None:
        nonlocal ready
        seen_first = False
        async with client.stream("GET", stream_path) as response:
            async for line in response.aiter_lines():
                if not seen_first:
                    seen_first = True
                    ready += 1
                    if ready == subscribers:
                        all_ready.set()
                if line.startswith("data:"):
                    now = time.perf_counter()
                    position = int(json.loads(line[5:])["position"])
                    received[i][position] = now
                if stop.is_set():
                    return

    limits = httpx.Limits(max_connections=subscribers + 10, max_keepalive_connections=subscribers + 10)
    timeout = httpx.Timeout(60, connect=60, pool=60)
    sent: dict[int, float] = {}
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=timeout) as streams, \
            httpx.AsyncClient(base_url=base, timeout=30) as writer:
        opening = time.perf_counter()
        tasks = [asyncio.create_task(subscriber(i, streams)) for i in range(subscribers)]
        try:
            await asyncio.wait_for(all_ready.wait(), ready_timeout)
        except TimeoutError:
            for task in tasks:
                task.cancel()
            return {"subscribers": subscribers, "error": f"only {ready} subscribers ready in {ready_timeout} s"}
        opened = time.perf_counter() - opening
        await asyncio.sleep(0.5)
        for k in range(events + 1):  # the first is a warm-up, not counted
            start = time.perf_counter()
            position = await trigger(writer, k)
            if k:
                sent[position] = start
            deadline = time.perf_counter() + 10
            while time.perf_counter() < deadline and sum(position in r for r in received) < subscribers:
                await asyncio.sleep(0.01)
            await asyncio.sleep(0.2)
        stop.set()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    latencies = [r[p] - t for p, t in sent.items() for r in received if p in r]
    missing = len(sent) * subscribers - len(latencies)
    return {"subscribers": subscribers, "events": len(sent), "seconds_to_open_all": round(opened, 2),
            "missed_deliveries": missing} | summary_ms(latencies)


def sse_fanout(base: str, stream_path: str, trigger: Trigger, *, subscribers: int, events: int,
               ready_timeout: float = 120) -> dict[str, Any]:
    """Opens `subscribers` concurrent streams, then sends `events` events one at a time (plus a warm-up);
    each delivery's latency runs from just before the triggering request to the subscriber reading it."""
    raise_open_files()
    return asyncio.run(_fanout(base, stream_path, trigger, subscribers, events, ready_timeout))
