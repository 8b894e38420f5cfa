"""A Python load driver (threads with http.client) for benchmarks that send a fixed, ordered list of
events and check every answer (bench/load.py). Throughput figures against a ceiling come from wrk
instead (bench/webhooks.py): these threads take much of a small machine's CPU themselves."""

from __future__ import annotations

import http.client
import json
import threading
import time
from dataclasses import dataclass, field

from webhooks.signature import sign

SECRET = "bench-webhook-secret-token"


@dataclass
class Result:
    label: str
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def done(self) -> int:
        return len(self.latencies)

    @property
    def rate(self) -> float:
        return self.done / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))] * 1000


def drive(port: int, bodies: list[bytes], connections: int, max_seconds: float, label: str) -> Result:
    """POST every body once from `connections` keep-alive connections; stop early at `max_seconds`."""
    result = Result(label)
    lock = threading.Lock()
    position = iter(range(len(bodies)))
    deadline = time.monotonic() + max_seconds

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        latencies, errors, statuses = [], 0, {}
        while time.monotonic() < deadline:
            with lock:
                index = next(position, None)
            if index is None:
                break
            body = bodies[index]
            ts = str(int(time.time()))
            headers = {
                "content-type": "application/json",
                "x-zm-request-timestamp": ts,
                "x-zm-signature": sign(SECRET, ts, body),
            }
            began = time.perf_counter()
            try:
                conn.request("POST", "/zoom/webhook", body=body, headers=headers)
                response = conn.getresponse()
                payload = response.read()
                elapsed = time.perf_counter() - began
                if response.status != 200:
                    errors += 1
                    continue
                status = json.loads(payload).get("status", "?")
                statuses[status] = statuses.get(status, 0) + 1
                latencies.append(elapsed)
                if response.getheader("connection", "").lower() == "close":
                    conn.close()
            except (OSError, http.client.HTTPException):
                errors += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.close()
        with lock:
            result.latencies.extend(latencies)
            result.errors += errors
            for k, v in statuses.items():
                result.statuses[k] = result.statuses.get(k, 0) + v

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(connections)]
    began = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=max_seconds + 60)
    result.seconds = time.perf_counter() - began
    return result


def report(result: Result) -> str:
    return (
        f"{result.label:<12} {result.rate:>9.1f} {result.percentile(50):>8.1f} {result.percentile(99):>8.1f} "
        f"{result.errors:>7} {result.done:>8}"
    )
