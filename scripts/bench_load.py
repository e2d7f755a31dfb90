"""Load benchmark of the HTTP API (a benchmark, not a test): starts the service (``ui.py`` under uvicorn) on
127.0.0.1, then for each N runs conversations N at a time against ``POST /api/ask``. A conversation asks a
natural-dev case's turns, then "这个文件现在还有效吗？" (a follow-up that needs its own history), then another
case's turns. Prints throughput, p50/p95/p99 latency and errors per N, and checks cross-talk: every answer must
be the one the same conversation got when it was asked alone (a sequential reference pass first), its turn
number must be its own, and the follow-up must cite only what the conversation's previous answer cited.

The benchmark is one client on one address, so the per-client rate limit is switched off for the run."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from evaluation.runner import load_cases  # noqa: E402
from evaluation.stats import percentile  # noqa: E402

STATUS_FOLLOW_UP = "这个文件现在还有效吗？"


@dataclass
class Level:
    """What one concurrency level measured."""

    concurrency: int
    conversations: int = 0
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    cross_talk: list[str] = field(default_factory=list)
    seconds: float = 0.0
    stopped_early: bool = False
    oversized: list[tuple] = field(default_factory=list)  # (status, seconds) of the oversized clients

    def row(self) -> dict:
        ordered = sorted(self.latencies)

        def pct(p: float) -> float:
            return percentile(ordered, p / 100) * 1000

        return {"N": self.concurrency, "conversations": self.conversations, "requests": len(self.latencies),
                "seconds": round(self.seconds, 1), "throughput_rps": round(len(self.latencies) / self.seconds, 1)
                if self.seconds else 0.0, "p50_ms": round(pct(50)), "p95_ms": round(pct(95)), "p99_ms": round(pct(99)),
                "mean_ms": round(statistics.fmean(ordered) * 1000) if ordered else 0, "errors": len(self.errors),
                "cross_talk": len(self.cross_talk), "stopped_early": self.stopped_early}


def scripts(qa: Path) -> list[list[str]]:
    """One conversation script per case: its turns, the status follow-up, then another case's turns."""
    cases, _ = load_cases(qa)
    return [case.turns + [STATUS_FOLLOW_UP] + cases[(i + 7) % len(cases)].turns for i, case in enumerate(cases)]


async def converse(http, urls: list[str], script: list[str], reference: list[str] | None, level: Level) -> list[str]:
    """Ask one conversation's messages in order, message i to copy i mod len(urls); returns the answers (for the
    reference pass)."""
    conversation_id, continued = None, {}  # the first message starts the conversation: the server issues id and secret
    answers: list[str] = []
    previous_docs: set[str] = set()
    for position, message in enumerate(script):
        started = time.perf_counter()
        try:
            url = urls[position % len(urls)]
            reply = await http.post(f"{url}/api/ask", json={"question": message, **continued})
        except Exception as exc:  # noqa: BLE001 - counted as an error, the run goes on
            level.errors.append(f"{exc.__class__.__name__}: {exc}")
            return answers
        level.latencies.append(time.perf_counter() - started)
        if reply.status_code != 200:
            level.errors.append(f"HTTP {reply.status_code}: {reply.text[:200]}")
            return answers
        data = reply.json()
        if not continued:
            conversation_id = data["conversation_id"]
            continued = {"conversation_id": conversation_id, "conversation_secret": data["conversation_secret"]}
        answers.append(data["answer"])
        cited = {c["doc_id"] for c in data["citations"]}
        if data["conversation_id"] != conversation_id or data["turn"] != position:
            level.cross_talk.append(f"{conversation_id}: turn {data['turn']} of {data['conversation_id']}, expected {position}")
        if reference is not None and data["answer"] != reference[position]:
            level.cross_talk.append(f"{conversation_id} turn {position}: answer differs from the one asked alone")
        if message == STATUS_FOLLOW_UP and previous_docs and not cited <= previous_docs:
            level.cross_talk.append(f"{conversation_id}: the follow-up cited {cited - previous_docs}, not its own documents")
        previous_docs = cited
    return answers


async def run_level(urls: list[str], all_scripts: list[list[str]], references: list[list[str]] | None, concurrency: int,
                    conversations: int, max_seconds: float, oversized: int = 0, distinct: bool = False) -> Level:
    """``conversations`` conversations, ``concurrency`` at a time; no new one starts after ``max_seconds``.
    ``oversized``: that many more clients meanwhile, each sending the largest request the API accepts (a 1,000-character
    question after a history of 20×1,000 characters) again and again; their latencies are kept apart. ``distinct``:
    every oversized request's texts differ (a counter in front), so no cache of the service answers them."""
    import httpx

    level = Level(concurrency)
    queue: asyncio.Queue[int] = asyncio.Queue()
    for number in range(conversations):
        queue.put_nowait(number)
    started = time.perf_counter()
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(timeout=120, limits=limits) as http:

        async def worker():
            while not queue.empty():
                if time.perf_counter() - started > max_seconds:
                    level.stopped_early = True
                    return
                number = queue.get_nowait()
                index = number % len(all_scripts)
                await converse(http, urls, all_scripts[index], references[index] if references else None, level)
                level.conversations += 1

        done = asyncio.Event()

        async def oversized_client(number: int):
            sent_count = 0
            while not done.is_set():
                tag = f"{number}-{sent_count}：" if distinct else ""
                sent_count += 1
                body = {"question": (tag + OVERSIZED_QUESTION)[:1000],
                        "history": [{"role": "user", "content": (f"{tag}{i}{OVERSIZED_MESSAGE}")[:1000]}
                                    for i in range(20)]}
                sent = time.perf_counter()
                try:
                    reply = await http.post(urls[number % len(urls)] + "/api/ask", json=body)
                    level.oversized.append((reply.status_code, time.perf_counter() - sent))
                except httpx.HTTPError as exc:
                    level.oversized.append((exc.__class__.__name__, time.perf_counter() - sent))

        heavy = [asyncio.create_task(oversized_client(n)) for n in range(oversized)]
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        done.set()
        await asyncio.gather(*heavy)
    level.seconds = time.perf_counter() - started
    return level


# The probe of issue 16: 1,000 characters of question and of each history message (63 KB in all, under the 64 KB limit).
OVERSIZED_MESSAGE = ("吉林省对专精特新企业的专利保险费有补助吗" * 50)[:999]
OVERSIZED_QUESTION = ("日照市对达到考核目标的区县最高奖励多少" * 60)[:1000]


def start_service(port: int, database: str, log_path: Path, extra: dict | None = None) -> subprocess.Popen:
    """``ui.py`` on 127.0.0.1:port (the index is built first if there is none), with its own database."""
    env = {**os.environ, "POLICYQA_HOST": "127.0.0.1", "POLICYQA_PORT": str(port),
           "POLICYQA_API_REQUESTS_PER_MINUTE": "0", "POLICYQA_DATABASE_URL": database,
           "ANONYMIZED_TELEMETRY": "False", "HF_HUB_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False", **(extra or {})}
    log = log_path.open("w")
    return subprocess.Popen([sys.executable, "ui.py"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)


def wait_ready(url: str, process: subprocess.Popen, timeout: float = 600) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the service exited with code {process.returncode} before it was ready")
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise SystemExit("the service was not ready in time")


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_copies(copies: int, folder: Path, stack) -> list[str]:
    """One copy over embedded Chroma and SQLite; or several over a Chroma server and a PostgreSQL (started here,
    on loopback, in ``folder``; the index built into the server from this data directory's embedding cache)."""
    database, extra = f"sqlite:///{folder / 'bench.sqlite'}", {}
    if copies > 1:
        from tests.servers import ChromaServer, PostgresServer

        chroma = ChromaServer(folder / "chroma").start()
        stack.callback(chroma.stop)
        postgres = PostgresServer().start()
        stack.callback(postgres.remove)
        data = folder / "data"
        (data / "index").mkdir(parents=True)
        cache = ROOT / "data" / "index" / "embeddings.sqlite"
        if cache.exists():
            import shutil

            shutil.copy(cache, data / "index")
        database = postgres.url
        extra = {"POLICYQA_VECTOR_STORE": "chroma-http", "POLICYQA_VECTOR_STORE_URL": chroma.url,
                 "POLICYQA_DATA_DIR": str(data)}
    urls = []
    for copy in range(copies):  # one after the other: the first builds the index, the others find it
        port = free_port()
        process = start_service(port, database, folder / f"service-{copy}.log", extra)

        def stop(process=process):
            process.terminate()
            process.wait(30)

        stack.callback(stop)
        urls.append(f"http://127.0.0.1:{port}")
        wait_ready(urls[-1], process)
    return urls


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--qa", type=Path, default=ROOT / "qa" / "natural-dev.jsonl")
    parser.add_argument("--levels", default="1,5,20,50", help="concurrent conversations, comma-separated")
    parser.add_argument("--conversations", type=int, default=0,
                        help="conversations per level (default: max(2×N, 20))")
    parser.add_argument("--max-seconds", type=float, default=120.0, help="no new conversation after this, per level")
    parser.add_argument("--copies", type=int, default=1,
                        help="app copies; more than one run over a Chroma server and PostgreSQL, messages round-robin")
    parser.add_argument("--url", action="append", help="benchmark running copies instead of starting them")
    parser.add_argument("--json", type=Path, help="also write the table here")
    parser.add_argument("--oversized", type=int, default=0,
                        help="clients sending the largest accepted request over and over during each level")
    parser.add_argument("--oversized-distinct", action="store_true",
                        help="make every oversized request's texts differ, so the service's caches never answer them")
    args = parser.parse_args()

    all_scripts = scripts(args.qa)
    rows = []
    with tempfile.TemporaryDirectory(prefix="policyqa-bench-") as folder, contextlib.ExitStack() as stack:
        urls = args.url or start_copies(args.copies, Path(folder), stack)
        print(f"{len(urls)} copies ready at {', '.join(urls)}; {len(all_scripts)} conversation scripts of "
              f"{min(map(len, all_scripts))}–{max(map(len, all_scripts))} messages ({args.qa.name})")
        reference_level = Level(1)
        references: list[list[str]] = []

        async def reference_pass():
            import httpx

            async with httpx.AsyncClient(timeout=120) as http:
                for script in all_scripts:
                    references.append(await converse(http, urls, script, None, reference_level))

        asyncio.run(reference_pass())
        if reference_level.errors:
            raise SystemExit(f"the reference pass failed: {reference_level.errors[:3]}")
        for concurrency in (int(n) for n in args.levels.split(",")):
            conversations = args.conversations or max(2 * concurrency, 20)
            level = asyncio.run(run_level(urls, all_scripts, references, concurrency, conversations, args.max_seconds,
                                          args.oversized, args.oversized_distinct))
            rows.append(level.row())
            if level.oversized:
                times = sorted(seconds for _, seconds in level.oversized)
                statuses = sorted({str(status) for status, _ in level.oversized})
                print(f"  N={concurrency}: {len(times)} oversized requests alongside ({', '.join(statuses)}), "
                      f"p50 {times[len(times) // 2]:.1f} s, max {times[-1]:.1f} s")
            for problem in (level.errors + level.cross_talk)[:5]:
                print(f"  N={concurrency}: {problem}")
    header = ["N", "conversations", "requests", "seconds", "throughput_rps", "p50_ms", "p95_ms", "p99_ms", "errors",
              "cross_talk"]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in rows:
        print("| " + " | ".join(str(row[key]) + ("*" if key == "conversations" and row["stopped_early"] else "")
                                for key in header) + " |")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(rows, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
