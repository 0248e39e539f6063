"""`tools/soak`: N readers and M writers against a real parlour for T minutes (issue 6).

Starts `parlour serve` on a fresh database in a temporary folder, sets it up, and invites
one user per writer. Writers send messages at a steady rate (and delete a few of their own,
and now and then create and delete a channel); readers follow the event stream, drop their
connection now and then, and resume with `Last-Event-ID`, as browsers do. Every few seconds
it samples the server's resident memory (VmRSS), open file descriptors and sockets
(/proc/PID/fd) and threads.

At the end the writers stop, every reader catches up and must hold exactly what a fresh
boot shows, and no answer may have been a 5xx. It prints one line per sample, then a
summary (also as JSON with --json PATH); the exit status is 1 if a check failed. It
measures memory and descriptors; judge their flatness from the figures (docs/reliability.md).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from httpx_sse import EventSource

PASSWORD = "soak password 1"  # noqa: S105 - a throwaway account on a throwaway database
LISTENING = re.compile(r"listening on (http://\S+)")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="tools/soak", description=__doc__.split("\n\n")[0])
    parser.add_argument("--readers", type=int, default=50, help="event-stream readers (50)")
    parser.add_argument("--writers", type=int, default=4, help="writing users (4)")
    parser.add_argument("--minutes", type=float, default=3.0, help="how long to run (3)")
    parser.add_argument("--rate", type=float, default=5.0, help="messages/s per writer (5)")
    parser.add_argument("--sample-seconds", type=float, default=10.0, help="sampling (10)")
    parser.add_argument("--json", type=Path, help="also write the summary here, as JSON")
    parser.add_argument("--keep", action="store_true", help="keep the folder and server log")
    return parser.parse_args()


@dataclass
class Server:
    proc: subprocess.Popen[str]
    url: str
    log: list[str] = field(default_factory=list)

    @classmethod
    def start(cls, folder: Path) -> Server:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PARLOUR_")}
        proc = subprocess.Popen(
            [sys.executable, "-m", "parlour", "serve", "--database", str(folder / "parlour.db"),
             "--port", "0", "--heartbeat", "5s"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, cwd=folder,
        )  # fmt: skip
        assert proc.stdout is not None
        log: list[str] = []
        for line in proc.stdout:
            log.append(line)
            if m := LISTENING.search(line):
                server = cls(proc, m.group(1), log)
                threading.Thread(target=server._pump, daemon=True).start()
                return server
        raise SystemExit("tools/soak: parlour did not start:\n" + "".join(log))

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.log.append(line)

    def sample(self) -> dict[str, int]:
        pid = self.proc.pid
        status = Path(f"/proc/{pid}/status").read_text()
        fds = os.listdir(f"/proc/{pid}/fd")
        sockets = 0
        for fd in fds:
            with contextlib.suppress(OSError):  # closed meanwhile
                sockets += os.readlink(f"/proc/{pid}/fd/{fd}").startswith("socket:")
        field_of = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        return {
            "rss_kib": int(field_of["VmRSS"].split()[0]),
            "fds": len(fds),
            "sockets": sockets,
            "threads": int(field_of["Threads"]),
        }

    def stop(self) -> int:
        self.proc.terminate()
        return self.proc.wait(30)


@dataclass
class Totals:
    lock: threading.Lock = field(default_factory=threading.Lock)
    statuses: Counter[int] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)

    def hook(self, response: httpx.Response) -> None:
        with self.lock:
            self.statuses[response.status_code] += 1

    def fail(self, what: str) -> None:
        with self.lock:
            self.failures.append(what)


def client(url: str, totals: Totals, cookies: httpx.Cookies | None = None) -> httpx.Client:
    return httpx.Client(
        base_url=url, cookies=cookies, timeout=60, event_hooks={"response": [totals.hook]}
    )


def writer(
    url: str, cookies: httpx.Cookies, channel: str, rate: float, stop: threading.Event,
    totals: Totals, index: int,
) -> None:  # fmt: skip
    rng = random.Random(index)
    mine: list[str] = []
    with client(url, totals, cookies) as c:
        n = 0
        while not stop.wait(rng.expovariate(rate)):
            n += 1
            try:
                if mine and rng.random() < 0.1:
                    c.delete(f"/api/messages/{mine.pop(rng.randrange(len(mine)))}")
                elif rng.random() < 0.01:
                    r = c.post("/api/channels", json={"name": f"w{index} room {n}"})
                    if r.status_code == 202:
                        c.delete(f"/api/channels/{r.json()['id']}")
                else:
                    body = f"writer {index} message {n} " + "x" * rng.randrange(0, 2000)
                    r = c.post(f"/api/channels/{channel}", json={"body": body})
                    if r.status_code == 202:
                        mine.append(r.json()["id"])
            except httpx.HTTPError as e:
                totals.fail(f"writer {index}: {e!r}")


@dataclass
class Reader:
    index: int
    cookies: httpx.Cookies
    state: dict[str, Any]
    last: int
    events: int = 0
    reconnects: int = 0

    def apply(self, sse_id: str, data: dict[str, Any]) -> None:
        seq = int(sse_id)
        if seq <= self.last:
            raise AssertionError(f"reader {self.index}: event {seq} after {self.last}")
        self.last = seq
        self.events += 1
        kind = (data.get("type"), data.get("event"))
        if kind == ("user", "created"):
            self.state["users"].append({"id": data["id"], "name": data["name"]})
        elif kind == ("channel", "created"):
            self.state["channels"].append(
                {"id": data["id"], "name": data["name"], "created_at": data["created_at"]}
            )
        elif kind == ("channel", "deleted"):
            self.state["channels"] = [c for c in self.state["channels"] if c["id"] != data["id"]]
        elif kind == ("message", "sent"):
            keys = ("id", "channel", "sender", "body", "sent_at")
            self.state["messages"].append({k: data[k] for k in keys})
        elif kind == ("message", "deleted"):
            self.state["messages"] = [m for m in self.state["messages"] if m["id"] != data["id"]]

    def follow(self, url: str, stop: threading.Event, totals: Totals, until: int = 0) -> None:
        """Follow the stream, resuming now and then, until `stop` (or through seq `until`)."""
        rng = random.Random(self.index)
        while not stop.is_set() and (not until or self.last < until):
            session = rng.uniform(10, 60)
            began = time.monotonic()
            self.reconnects += 1
            headers = {"Last-Event-ID": str(self.last)}
            try:
                with (
                    httpx.Client(
                        base_url=url, cookies=self.cookies, timeout=httpx.Timeout(30, read=20)
                    ) as c,
                    c.stream("GET", "/api/events", headers=headers) as r,
                ):
                    totals.hook(r)
                    if r.status_code != 200:
                        totals.fail(f"reader {self.index}: resume answered {r.status_code}")
                        return
                    for sse in EventSource(r).iter_sse():
                        # A heartbeat (event: heartbeat) carries the previous event's id.
                        if sse.event == "message" and sse.id and sse.data:
                            self.apply(sse.id, json.loads(sse.data))
                        if stop.is_set() or time.monotonic() - began > session:
                            break
                        if until and self.last >= until:
                            return
            except (httpx.HTTPError, AssertionError) as e:
                totals.fail(f"reader {self.index}: {e!r}")
                time.sleep(1)


def world(snapshot: dict[str, Any]) -> dict[str, Any]:
    return {k: list(snapshot[k]) for k in ("users", "channels", "messages")}


def main() -> int:
    args = parse_args()
    folder = Path(tempfile.mkdtemp(prefix="parlour-soak-"))
    server = Server.start(folder)
    totals = Totals()
    print(f"soak: parlour at {server.url} (pid {server.proc.pid}), folder {folder}")
    try:
        owner = client(server.url, totals)
        owner.post("/api/setup", json={"name": "Owner", "password": PASSWORD}).raise_for_status()
        channel = owner.post("/api/channels", json={"name": "general"}).json()["id"]
        writers: list[httpx.Cookies] = []
        for i in range(args.writers):
            invite = owner.post("/api/invite", json={}).json()["id"]
            with client(server.url, totals) as c:
                c.post(
                    f"/api/invite/{invite}", json={"name": f"Writer {i}", "password": PASSWORD}
                ).raise_for_status()
                writers.append(httpx.Cookies(c.cookies))
        snapshot = owner.get("/api/boot").json()
        readers = [
            Reader(i, writers[i % len(writers)] if writers else owner.cookies,
                   world(snapshot), snapshot["resume_point"])
            for i in range(args.readers)
        ]  # fmt: skip
        stop = threading.Event()
        threads = [
            threading.Thread(target=r.follow, args=(server.url, stop, totals)) for r in readers
        ] + [
            threading.Thread(
                target=writer,
                args=(server.url, cookies, channel, args.rate, stop, totals, i),
            )
            for i, cookies in enumerate(writers)
        ]
        for t in threads:
            t.start()
        samples: list[dict[str, Any]] = []
        began = time.monotonic()
        end = began + args.minutes * 60
        while True:
            sample = {"t_seconds": round(time.monotonic() - began), **server.sample()}
            samples.append(sample)
            print("soak: " + "  ".join(f"{k} {v}" for k, v in sample.items()), flush=True)
            if time.monotonic() >= end:
                break
            time.sleep(min(args.sample_seconds, max(0.0, end - time.monotonic())))
        stop.set()
        for t in threads:
            t.join(120)
        # Quiet now: every reader resumes once more and must equal a fresh boot.
        truth = owner.get("/api/boot").json()
        catch_up = threading.Event()
        for r in readers:
            r.follow(server.url, catch_up, totals, until=truth["resume_point"])
        differing = [r.index for r in readers if world(r.state) != world(truth)]
        owner.close()
        time.sleep(6)  # idle keep-alive connections close after 5 s
        quiet = {"t_seconds": round(time.monotonic() - began), **server.sample()}
        print("soak: quiet  " + "  ".join(f"{k} {v}" for k, v in quiet.items()))
        code = server.stop()
        if args.keep:
            (folder / "server.log").write_text("".join(server.log))
        errors = [line for line in server.log if "Traceback" in line or " ERROR " in line]
        first, last = samples[1] if len(samples) > 1 else samples[0], samples[-1]
        summary = {
            "readers": args.readers,
            "writers": args.writers,
            "minutes": args.minutes,
            "requests": sum(totals.statuses.values()),
            "statuses": dict(sorted(totals.statuses.items())),
            "answers_5xx": sum(n for s, n in totals.statuses.items() if s >= 500),
            "messages_in_boot": len(truth["messages"]),
            "events_delivered": sum(r.events for r in readers),
            "reader_connections": sum(r.reconnects for r in readers),
            "readers_differing_from_boot": differing,
            "client_failures": totals.failures[:20],
            "server_log_errors": errors[:20],
            "server_exit_status": code,
            "start": first,
            "end": last,
            "quiet": quiet,
            "peak_rss_kib": max(s["rss_kib"] for s in samples),
            "samples": samples,
        }
        print("soak: summary " + json.dumps({k: v for k, v in summary.items() if k != "samples"}))
        if args.json:
            args.json.write_text(json.dumps(summary, indent=2) + "\n")
        ok = not (differing or summary["answers_5xx"] or errors or code or totals.failures)
        print(f"soak: {'ok' if ok else 'FAILED'}")
        return 0 if ok else 1
    finally:
        if server.proc.poll() is None:
            server.proc.kill()
        if not args.keep:
            for path in sorted(folder.glob("*")):
                path.unlink()
            folder.rmdir()


if __name__ == "__main__":
    sys.exit(main())
