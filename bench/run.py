"""The benchmark: the local pipeline on generated datasets, against references measured in the same run.

    python -m bench run                 # every dataset (about 30 minutes on 2 cores)
    python -m bench run --only 1m       # one of them

Each dataset is generated once under .state/bench/ and reused. Every pipeline run is a fresh
`python flows/sparkify.py` process against one Prefect server the benchmark starts, so the
server's start is excluded and each task's duration is read back from Prefect's API.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# name: (events, song files)
DATASETS = {"100k": (100_000, 2_000), "1m": (1_000_000, 2_000), "1m-5k": (1_000_000, 5_000), "5m": (5_000_000, 20_000)}
REFERENCE_DATASET = "1m"
SEED = 1
# The row-by-row baseline runs at a few thousand rows a second: it is timed on this many rows
# and its rate applied to the whole dataset.
NAIVE_ROWS = 100_000


def dataset(root: Path, name: str) -> Path:
    """The dataset `name`, generated unless a previous run left it complete."""
    from bench.generate import generate

    events, songs = DATASETS[name]
    out = root / name
    expected = out / "expected.json"
    wanted = {"songs": songs, "events": events, "days": 30, "seed": SEED, "match_share": 0.3}
    if not (expected.exists() and json.loads(expected.read_text())["params"] == wanted):
        started = time.perf_counter()
        shutil.rmtree(out, ignore_errors=True)  # the benchmark's own folder, maybe half written
        generate(out, songs, events, 30, SEED)
        print(f"  generated {name} in {time.perf_counter() - started:.0f} s", flush=True)
    return out


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def prefect_server(home: Path) -> Iterator[str]:
    """A `prefect server start` of its own, with its own database under `home`; yields its API URL."""
    port = _free_port()
    env = {**os.environ, "PREFECT_HOME": str(home), "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1"}
    server = subprocess.Popen(
        [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/api"
    try:
        for _ in range(240):
            try:
                urllib.request.urlopen(f"{url}/health", timeout=1)
                break
            except OSError:
                time.sleep(0.5)
        else:
            raise RuntimeError("the benchmark's Prefect server did not answer within 6 minutes")
        yield url
    finally:
        server.terminate()
        server.wait(30)


def run_pipeline(data: Path, work: Path, api_url: str) -> dict[str, Any]:
    """One `python flows/sparkify.py` run, kept for inspection; its summary, wall time and peak RSS."""
    summary = work / "summary.json"
    env = {
        **os.environ, "PREFECT_API_URL": api_url, "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1",
        "SPARKIFY_STATE_DIR": str(work / "state"), "SPARKIFY_RESULTS_DIR": str(work / "results"),
    }
    command = [sys.executable, str(ROOT / "flows" / "sparkify.py"), "--data-dir", str(data), "--keep-cluster",
               "--summary-json", str(summary)]
    started = time.perf_counter()
    with open(work / "flow.log", "w") as log:
        child = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        peak_rss_mb = _wait_peak_rss_mb(child)
    wall = time.perf_counter() - started
    if child.returncode != 0:
        raise RuntimeError(f"the pipeline failed on {data}; see {work / 'flow.log'}")
    return {"summary": json.loads(summary.read_text()), "wall_s": wall, "peak_rss_mb": peak_rss_mb}


def _wait_peak_rss_mb(child: subprocess.Popen) -> float:
    """Wait for `child` and return its peak RSS (moto runs in that process) in MB.

    Not wait4's ru_maxrss: Linux carries the parent's high-water mark into a child across fork
    and exec, so once the references had grown this process, every later run reported at least
    its size (2 GB for the 5M run, which itself peaked at 0.8 GB). VmHWM belongs to the child's
    own image; it only rises, so polling it misses at most the last interval.
    """
    peak_kb = 0
    status = Path(f"/proc/{child.pid}/status")
    while child.poll() is None:
        try:
            hwm = next(line for line in status.read_text().splitlines() if line.startswith("VmHWM:"))
            peak_kb = max(peak_kb, int(hwm.split()[1]))
        except (OSError, StopIteration):
            pass  # exiting: its memory is already gone
        time.sleep(0.2)
    return peak_kb / 1024


def stop_pipeline_warehouse(work: Path) -> None:
    env = {**os.environ, "SPARKIFY_STATE_DIR": str(work / "state")}
    subprocess.run([sys.executable, str(ROOT / "flows" / "sparkify.py"), "teardown", "--wipe"], env=env,
                   check=True, capture_output=True)


def stage_seconds(flow_run_id: str) -> dict[str, float]:
    """Seconds per stage of a flow run, from the task runs Prefect recorded."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    with get_client(sync_client=True) as client:
        # Task-run states reach the API through its event stream, a moment after the flow ends.
        for _ in range(60):
            run = client.read_flow_run(flow_run_id)
            tasks = client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run.id])))
            if run.end_time and tasks and all(t.start_time and t.end_time for t in tasks):
                break
            time.sleep(0.5)
        else:
            raise RuntimeError(f"Prefect's API has not recorded every task run of flow run {flow_run_id}")
    spans: dict[str, tuple[Any, Any]] = {}
    for t in tasks:
        name = t.name if t.name.startswith(("copy-", "build-", "check-")) else t.name.rsplit("-", 1)[0]
        name = "checks" if name.startswith("check-") else name
        start, end = spans.get(name, (t.start_time, t.end_time))
        spans[name] = (min(start, t.start_time), max(end, t.end_time))
    seconds = {name: (end - start).total_seconds() for name, (start, end) in spans.items()}
    out = {"sources (start, fill, survey)": (spans["survey_sources"][1] - run.start_time).total_seconds()}
    out["provision"] = (spans["create_tables"][1] - spans["survey_sources"][1]).total_seconds()
    out |= {k: v for k, v in seconds.items() if k.startswith(("copy-", "build-"))}
    out |= {"checks": seconds["checks"], "report": seconds["publish_report"], "teardown": seconds["teardown"]}
    out["end to end"] = (run.end_time - run.start_time).total_seconds()
    return out


def best_of(threads: tuple[int, ...], work: Callable[[ThreadPoolExecutor], None]) -> tuple[float, int]:
    """The fastest time of `work` over thread-pool sizes, and that size."""
    timings = []
    for n in threads:
        with ThreadPoolExecutor(n) as pool:
            started = time.perf_counter()
            work(pool)
            timings.append((time.perf_counter() - started, n))
    return min(timings)


def references(data: Path, work: Path, api_url: str) -> dict[str, Any]:
    """The loader's stages alone, and the bounds they are measured against, on one dataset."""
    os.environ["PREFECT_API_URL"] = api_url
    from prefect import flow

    @flow(name="sparkify-bench-references")
    def measure() -> dict[str, Any]:
        return _measure(data, work)

    return measure()


def _measure(data: Path, work: Path) -> dict[str, Any]:
    from pydantic import SecretStr

    from core.settings import Settings
    from core.target import Endpoint
    from core.window import Window
    from local.target import LocalTarget
    from local.twin import data_files
    from tasks.manifest import write_manifests
    from tasks.sources import survey_sources
    from tasks.staging import copy_table, create_tables

    settings = Settings(data_dir=data, state_dir=work / "state", results_dir=work / "results", cluster_id="bench")
    target = LocalTarget(settings)
    out: dict[str, Any] = {}
    try:
        # The references stand outside the pipeline: they call as the twin's administrator.
        s3 = target.admin_client("s3")
        files = data_files(data, ("song_data", "log_data"), ())
        started = time.perf_counter()
        target.prepare_sources()
        out["upload"] = time.perf_counter() - started
        s3.create_bucket(Bucket="bench-put-bound", CreateBucketConfiguration={"LocationConstraint": settings.region})
        out["put_bound"], out["put_threads"] = best_of((8, 16, 32), lambda pool: list(pool.map(
            lambda f: s3.put_object(Bucket="bench-put-bound", Key=f[1], Body=f[0].read_bytes()), files)))
        song_keys = [key for _, key in files if key.startswith("song_data/")]
        out["get_bound"], out["get_threads"] = best_of((8, 16, 32), lambda pool: list(pool.map(
            lambda k: s3.get_object(Bucket=settings.source_bucket, Key=k)["Body"].read(), song_keys)))
        out["objects"], out["song_files"] = len(files), len(song_keys)

        sources = survey_sources(target, Window())
        manifests = write_manifests(target, sources, "bench")
        password = SecretStr("Bench-" + os.urandom(8).hex())
        dsn = target.dsn(Endpoint("localhost", 5439, ""), password)
        create_tables(target, dsn)
        common = {"iam_role": "arn:aws:iam::123456789012:role/bench", "region": settings.region, "max_errors": 0}
        jsonpaths = manifests["jsonpaths"]
        for table, params in (("staging_songs", {"manifest": manifests["songs"]}),
                              ("staging_events", {"manifest": manifests["events"], "jsonpaths": jsonpaths})):
            started = time.perf_counter()
            out[f"rows:{table}"] = copy_table(target, dsn, table, {**common, **params}).rows
            out[f"copy:{table}"] = time.perf_counter() - started
        out |= _row_path_agrees(
            settings, target, dsn, {**common, "manifest": manifests["events"], "jsonpaths": jsonpaths}
        )
        out |= _server_side_bounds(target, work, dsn)
    finally:
        target.close()
    return out


def _row_path_agrees(settings: Any, target: Any, dsn: Any, params: dict[str, Any]) -> dict[str, Any]:
    """Load the staged events again through the record-by-record path alone; the columnar path
    must have loaded the same values (an order-free checksum of every row, as text)."""
    from local.copy.tuning import CopyTuning
    from local.engine import LocalEngine
    from tasks.staging import copy_table

    checksum = "SELECT COUNT(*), SUM(hashtextextended(e::text, 0)::numeric) FROM staging_events AS e"
    with target.superuser(target.database) as conn:
        columnar = conn.execute(checksum).fetchone()
        conn.execute("TRUNCATE staging_events")
    # The same target, with no object large enough for polars.
    row_path = target.with_settings()
    row_path.engine = LocalEngine(lambda: target.admin_client("s3"), CopyTuning(min_columnar_bytes=1 << 62))
    started = time.perf_counter()
    copy_table(row_path, dsn, "staging_events", params)
    seconds = time.perf_counter() - started
    with target.superuser(target.database) as conn:
        rows = conn.execute(checksum).fetchone()
    return {"copy:staging_events:row_path": seconds, "row_path_agrees": columnar == rows}


def _server_side_bounds(target: Any, work: Path, dsn: Any) -> dict[str, float]:
    """PostgreSQL's own COPY of the staged events from a CSV file, and a row-by-row INSERT of them."""
    import psycopg

    shared = Path(tempfile.mkdtemp(prefix="sparkify-bench-"))
    shared.chmod(0o777)  # the server process writes and reads the CSV file
    csv = shared / "staging_events.csv"
    result: dict[str, float] = {}
    with target.superuser(target.database) as conn:
        conn.execute(f"COPY staging_events TO '{csv}' (FORMAT csv)")
        total = conn.execute("SELECT COUNT(*) FROM staging_events").fetchone()[0]
        sample = conn.execute("SELECT * FROM staging_events LIMIT %s", (NAIVE_ROWS,)).fetchall()
        runs = []
        for _ in range(3):
            conn.execute("TRUNCATE staging_events")
            started = time.perf_counter()
            conn.execute(f"COPY staging_events FROM '{csv}' (FORMAT csv)")
            runs.append(time.perf_counter() - started)
        result["server_copy"] = statistics.median(runs)
        conn.execute("TRUNCATE staging_events")
    shutil.rmtree(shared, ignore_errors=True)
    # The naive loader: one INSERT statement per event, committed at the end.
    placeholders = ", ".join(["%s"] * len(sample[0]))
    login = {"host": dsn.host, "port": dsn.port, "dbname": dsn.dbname, "user": dsn.user}
    with psycopg.connect(**login, password=dsn.password.get_secret_value()) as conn, conn.cursor() as cur:
        started = time.perf_counter()
        for row in sample:
            cur.execute(f"INSERT INTO staging_events VALUES ({placeholders})", row)
        conn.commit()
        result["row_inserts"] = (time.perf_counter() - started) * total / len(sample)
    return result


def layer_cost() -> dict[str, float]:
    """The Redshift SQL layer's cost: each statement a run sends, parsed, checked and translated afresh
    (not from the layer's cache) five times; the median per statement, and their sum for one run."""
    from bench.statements import pipeline_statements
    from local.redshift import translate

    per_statement = []
    for statement in pipeline_statements():
        runs = []
        for _ in range(5):
            started = time.perf_counter()
            translate.__wrapped__(statement)
            runs.append(time.perf_counter() - started)
        per_statement.append(statistics.median(runs))
    return {"statements": len(per_statement), "median_s": statistics.median(per_statement), "run_s": sum(per_statement)}


def explain_songplays(data: Path, work: Path) -> str:
    """EXPLAIN ANALYZE of the songplays transform on a kept warehouse, rolled back."""
    import psycopg

    from core.redshift_sql import split
    from core.settings import Settings
    from core.warehouse import load_sql
    from local.redshift import to_postgres
    from local.target import warehouse_database

    pgdata = work / "state" / "pgdata"
    database = warehouse_database(Settings(data_dir=data, state_dir=work / "state"))
    script = load_sql("marts/songplays").replace("{window_start}", "NULL").replace("{window_end}", "NULL")
    with psycopg.connect(host=str(pgdata), dbname=database, user="postgres") as conn:
        lines = []
        for statement in split(script)[:3]:
            plan = conn.execute("EXPLAIN (ANALYZE, COSTS OFF) " + to_postgres(statement)).fetchall()
            lines += [f"-- {statement.splitlines()[0]}"] + [row[0] for row in plan]
        conn.rollback()
    return "\n".join(lines)


def _rss_growth(a: float, b: float) -> str:
    return f"{(b / a - 1) * 100:+.0f}%"


def main(only: list[str] | None = None) -> int:
    names = only or list(DATASETS)
    root = ROOT / ".state" / "bench"
    root.mkdir(parents=True, exist_ok=True)
    print(f"Machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}, {sys.platform}", flush=True)
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="sparkify-bench-") as tmp, prefect_server(Path(tmp) / "prefect") as api:
        os.environ["PREFECT_API_URL"] = api
        for name in names:
            data = dataset(root, name)
            work = Path(tmp) / name
            work.mkdir()
            print(f"\n== {name}: {DATASETS[name][0]:,} events, {DATASETS[name][1]:,} song files", flush=True)
            run = run_pipeline(data, work, api)
            try:
                stages = stage_seconds(run["summary"]["flow_run_id"])
                plan = explain_songplays(data, work) if name == "5m" else None
            finally:
                stop_pipeline_warehouse(work)
            expected = json.loads((data / "expected.json").read_text())
            summary = run["summary"]
            correct = all(summary[k] == expected[k] for k in ("tables", "songplays_matched", "users_by_level"))
            results[name] = run | {"stages": stages, "correct": correct}
            for stage, seconds in stages.items():
                print(f"  {stage:<32} {seconds:7.2f} s")
            events_s = summary["tables"]["staging_events"] / stages["copy-staging_events"]
            print(f"  staging load of events           {events_s:9,.0f} events/s")
            print(f"  process wall time                {run['wall_s']:7.2f} s (with Python's start)")
            print(f"  peak RSS of the flow process     {run['peak_rss_mb']:7.0f} MB")
            print(f"  counts equal the generator's     {'yes' if correct else 'NO: ' + json.dumps(summary['tables'])}")
            if plan:
                print("  songplays transform plan:\n" + "\n".join("    " + line for line in plan.splitlines()))
            if name == REFERENCE_DATASET:
                print(f"\n== references on {name}, measured now in this process", flush=True)
                ref = references(data, Path(tmp) / "references", api)
                results["references"] = ref
                _print_references(ref, stages)
                layer = results["layer"] = layer_cost()
                print(f"  Redshift SQL layer: {layer['statements']} statements a run, median "
                      f"{layer['median_s'] * 1e6:.0f} us each, {layer['run_s'] * 1e3:.0f} ms a run: "
                      f"{layer['run_s'] / stages['end to end'] * 100:.2f}% of the run end to end")
    if "1m" in results and "5m" in results:
        print(f"\nPeak RSS 1m -> 5m: {results['1m']['peak_rss_mb']:.0f} MB -> {results['5m']['peak_rss_mb']:.0f} MB "
              f"({_rss_growth(results['1m']['peak_rss_mb'], results['5m']['peak_rss_mb'])})")
    (root / "results.json").write_text(json.dumps(results, indent=2, default=str))
    print(f"\nAll figures: {root / 'results.json'}")
    agree = results.get("references", {}).get("row_path_agrees", True)
    return 0 if agree and all(r.get("correct", True) for r in results.values()) else 1


def _print_references(ref: dict[str, Any], stages: dict[str, float]) -> None:
    def line(label: str, seconds: float, note: str) -> None:
        print(f"  {label:<34}{seconds:7.2f} s  {note}")

    def versus(seconds: float, bound: str) -> str:
        return f"{seconds / ref[bound]:.2f}x the bound"

    def per_object(bound: str, count: str) -> str:
        return f"{ref[bound] / ref[count] * 1000:.2f} ms per object, {ref[bound.replace('bound', 'threads')]} threads"

    line("server-side COPY FROM file (CSV)", ref["server_copy"], "median of 3, the upper bound")
    line("row-by-row INSERT", ref["row_inserts"], f"the naive baseline (timed on {NAIVE_ROWS:,} rows)")
    events = ref["copy:staging_events"]
    line("COPY staging_events, alone", events,
         f"{versus(events, 'server_copy')}, {ref['row_inserts'] / events:.1f}x faster than the baseline")
    line("COPY staging_events, in the flow", stages["copy-staging_events"],
         f"{versus(stages['copy-staging_events'], 'server_copy')} (beside the song COPY)")
    agrees = "the same values" if ref["row_path_agrees"] else "DIFFERENT VALUES from the columnar path"
    line("COPY staging_events, row path only", ref["copy:staging_events:row_path"], f"{agrees} (checksum of every row)")
    line("boto3 parallel GETs of the songs", ref["get_bound"], f"{per_object('get_bound', 'song_files')}, the bound")
    line("COPY staging_songs, alone", ref["copy:staging_songs"], versus(ref["copy:staging_songs"], "get_bound"))
    line("COPY staging_songs, in the flow", stages["copy-staging_songs"],
         f"{versus(stages['copy-staging_songs'], 'get_bound')} (beside the event COPY)")
    line("boto3 parallel PUTs of the data", ref["put_bound"], f"{per_object('put_bound', 'objects')}, the bound")
    line("filling the local S3", ref["upload"], f"{versus(ref['upload'], 'put_bound')} (moto's backend, no HTTP)")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or None))
