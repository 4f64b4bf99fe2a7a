"""The benchmark: the local pipeline on generated datasets, against references measured in the same run.

    python -m bench run                     # every dataset, 3 runs each
    python -m bench run --only 1m --repeat 1  # one of them, once

Each dataset is generated once under .state/bench/ and reused. Every pipeline run is a fresh
`python flows/sparkify.py` process against one Prefect server the benchmark starts, so each
task's duration can be read back from Prefect's API; figures are medians over the runs. On the
sample and the 1M dataset the same command is also timed with no server running, as a user's
first command is: Prefect's temporary server starts and stops inside it.
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
# name: (events, song files); the sample is data/sample, not generated.
DATASETS = {
    "sample": (8_056, 71), "100k": (100_000, 2_000), "1m": (1_000_000, 2_000), "1m-5k": (1_000_000, 5_000),
    "5m": (5_000_000, 20_000),
}
REFERENCE_DATASET = "1m"
# Datasets also timed end to end with Prefect's temporary server, started and stopped by the run.
TEMPORARY_SERVER_DATASETS = ("sample", "1m")
SEED = 1
# The row-by-row baseline runs at a few thousand rows a second: it is timed on this many rows
# and its rate applied to the whole dataset.
NAIVE_ROWS = 100_000


def dataset(root: Path, name: str) -> Path:
    """The dataset `name`, generated unless a previous run left it complete."""
    from bench.generate import generate, params

    if name == "sample":
        return ROOT / "data" / "sample"
    events, songs = DATASETS[name]
    out = root / name
    expected = out / "expected.json"
    wanted = (songs, events, 30, SEED, 0.3)  # 30 days; 30% of the plays match a song
    if not (expected.exists() and json.loads(expected.read_text())["params"] == params(*wanted)):
        started = time.perf_counter()
        shutil.rmtree(out, ignore_errors=True)  # the benchmark's own folder, maybe half written
        generate(out, *wanted)
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
        # This process's own flow (the references) logs to the server through Prefect's log
        # worker, which would send its last lines at exit, once the server is gone ("Error logging
        # to API"): they are sent now.
        from prefect.logging.handlers import APILogWorker

        APILogWorker.drain_all(timeout=10)
        server.terminate()
        server.wait(30)


def run_pipeline(data: Path, work: Path, api_url: str | None, keep: bool = True) -> dict[str, Any]:
    """One `python flows/sparkify.py` run, kept for inspection; its summary, wall time and peak memory.

    With `api_url` None the run has no server to talk to and starts Prefect's temporary one, in
    the Prefect home under `work` (which earlier runs there have already created and migrated).
    """
    work.mkdir(parents=True, exist_ok=True)
    summary = work / "summary.json"
    env = {
        **os.environ, "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1",
        "SPARKIFY_STATE_DIR": str(work / "state"), "SPARKIFY_RESULTS_DIR": str(work / "results"),
    }
    if api_url is None:
        env.pop("PREFECT_API_URL", None)
        env["PREFECT_HOME"] = str(work / "prefect")
    else:
        env["PREFECT_API_URL"] = api_url
    command = [sys.executable, str(ROOT / "flows" / "sparkify.py"), "--data-dir", str(data),
               "--summary-json", str(summary)] + (["--keep-cluster"] if keep else [])
    started = time.perf_counter()
    with open(work / "flow.log", "a") as log:
        child = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        memory = _wait_peak_memory_mb(child)
    wall = time.perf_counter() - started
    if child.returncode != 0:
        raise RuntimeError(f"the pipeline failed on {data}; see {work / 'flow.log'}")
    return {"summary": json.loads(summary.read_text()), "wall_s": wall, **memory}


def _wait_peak_memory_mb(child: subprocess.Popen) -> dict[str, float]:
    """Wait for `child`; return the peak of its own RSS, of moto's process's, and of the RSS of it
    and every process it started except PostgreSQL's, summed at each poll, in MB.

    Not wait4's ru_maxrss: Linux carries the parent's high-water mark into a child across fork
    and exec, so once the references had grown this process, every later run reported at least
    its size. A process's VmHWM belongs to its own image and only rises; the sum is of samples
    every 0.2 s, so it may miss a peak shorter than that.
    """
    import psutil

    own_kb, moto_kb, tree = 0, 0, 0
    root = psutil.Process(child.pid)
    while child.poll() is None:
        try:
            own_kb = max(own_kb, _high_water_kb(root))
            processes = [root, *root.children(recursive=True)]
            moto_kb = max([moto_kb, *(_high_water_kb(p) for p in processes if _is_moto(p))])
            tree = max(tree, sum(_rss(p) for p in processes if not _is_postgres(p)))
        except (OSError, StopIteration, psutil.Error):
            pass  # exiting: its memory is already gone
        time.sleep(0.2)
    return {"peak_rss_mb": own_kb / 1024, "peak_moto_rss_mb": moto_kb / 1024, "peak_tree_rss_mb": tree / 1024 / 1024}


def _high_water_kb(process: Any) -> int:
    status = Path(f"/proc/{process.pid}/status").read_text().splitlines()
    return int(next(line for line in status if line.startswith("VmHWM:")).split()[1])


def _is_moto(process: Any) -> bool:
    import psutil

    try:
        return "local.moto_process" in process.cmdline()
    except psutil.Error:
        return False


def _rss(process: Any) -> int:
    import psutil

    try:
        return process.memory_info().rss
    except psutil.Error:
        return 0


def _is_postgres(process: Any) -> bool:
    import psutil

    try:
        return process.name() in ("postgres", "postmaster", "pg_ctl")
    except psutil.Error:
        return True  # gone: counts nothing either way


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
    copies = [span for name, span in spans.items() if name.startswith("copy-")]
    # From the first COPY's start to the last one's end: the two run side by side.
    out["COPY phase"] = (max(end for _, end in copies) - min(start for start, _ in copies)).total_seconds()
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
    from local.copy.fetch import S3Reader
    from local.copy.tuning import CopyTuning
    from local.source_bucket import data_files
    from local.target import LocalTarget
    from tasks.manifest import write_manifests
    from tasks.sources import survey_sources
    from tasks.staging import copy_table, create_tables

    settings = Settings(data_dir=data, state_dir=work / "state", results_dir=work / "results", cluster_id="bench")
    target = LocalTarget(settings)
    out: dict[str, Any] = {}
    try:
        # The references stand outside the pipeline: they call as the twin's administrator.
        s3 = target.admin_client("s3")
        reader = S3Reader(s3, CopyTuning())
        files = data_files(data, ("song_data", "log_data"), ())
        started = time.perf_counter()
        target.prepare_sources()
        out["upload"] = time.perf_counter() - started
        s3.create_bucket(Bucket="bench-put-bound", CreateBucketConfiguration={"LocationConstraint": settings.region})
        out["put_bound"], out["put_threads"] = best_of((8, 16, 32), lambda pool: list(pool.map(
            lambda f: s3.put_object(Bucket="bench-put-bound", Key=f[1], Body=f[0].read_bytes()), files)))
        song_keys = [key for _, key in files if key.startswith("song_data/")]
        gets = {
            "boto3": best_of((8, 16, 32), lambda pool: list(pool.map(
                lambda k: s3.get_object(Bucket=settings.source_bucket, Key=k)["Body"].read(), song_keys))),
            # The local COPY's own GET, obstore's, without the COPY around it.
            "obstore": best_of((8, 16, 32), lambda pool: list(pool.map(
                lambda k: reader.get(f"s3://{settings.source_bucket}/{k}"), song_keys))),
        }
        out["get_loops"] = {client: seconds for client, (seconds, _) in gets.items()}
        out["get_client"] = min(gets, key=lambda client: gets[client][0])  # the bound: the fastest client
        out["get_bound"], out["get_threads"] = gets[out["get_client"]]
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
    from local.postgres import data_directory
    from local.redshift import to_postgres
    from local.target import warehouse_database

    pgdata = data_directory(work / "state")
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


def median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The runs' median of each stage, wall time and memory; the first run's summary."""
    return {
        "summary": runs[0]["summary"],
        "stages": {k: statistics.median(r["stages"][k] for r in runs) for k in runs[0]["stages"]},
        **{k: statistics.median(r[k] for r in runs)
           for k in ("wall_s", "peak_rss_mb", "peak_moto_rss_mb", "peak_tree_rss_mb")},
        "runs": len(runs),
        "spread": {k: (min(r["stages"][k] for r in runs), max(r["stages"][k] for r in runs))
                   for k in runs[0]["stages"]},
    }


def measure_dataset(name: str, data: Path, work: Path, api: str, repeat: int) -> dict[str, Any]:
    """`repeat` runs against the benchmark's server, each on a new warehouse; their medians."""
    runs = []
    for i in range(repeat):
        run = run_pipeline(data, work / f"run{i}", api)
        try:
            run["stages"] = stage_seconds(run["summary"]["flow_run_id"])
            if name == "5m" and i == 0:
                run["plan"] = explain_songplays(data, work / f"run{i}")
        finally:
            stop_pipeline_warehouse(work / f"run{i}")
        runs.append(run)
    return median_run(runs) | {"plan": runs[0].get("plan")}


def temporary_server_walls(data: Path, work: Path, repeat: int) -> dict[str, Any]:
    """The command's wall time with no Prefect server running, as a user's own run is: it starts
    Prefect's temporary server and stops it. The first run creates the Prefect home and is not
    counted; each run loads a new warehouse, as the runs against the server do."""
    walls = []
    for _ in range(repeat + 1):
        walls.append(run_pipeline(data, work, None, keep=False)["wall_s"])
        stop_pipeline_warehouse(work)
    return {"first_wall_s": walls[0], "wall_s": statistics.median(walls[1:]), "walls": walls[1:]}


def main(only: list[str] | None = None, repeat: int = 3) -> int:
    names = only or list(DATASETS)
    root = ROOT / ".state" / "bench"
    root.mkdir(parents=True, exist_ok=True)
    print(f"Machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}, {sys.platform}; "
          f"medians of {repeat} runs", flush=True)
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="sparkify-bench-") as tmp, prefect_server(Path(tmp) / "prefect") as api:
        os.environ["PREFECT_API_URL"] = api
        for name in names:
            data = dataset(root, name)
            work = Path(tmp) / name
            print(f"\n== {name}: {DATASETS[name][0]:,} events, {DATASETS[name][1]:,} song files", flush=True)
            run = measure_dataset(name, data, work, api, repeat)
            expected = json.loads((data / "expected.json").read_text()) if name != "sample" else None
            summary = run["summary"]
            correct = expected is None or all(
                summary[k] == expected[k] for k in ("tables", "songplays_matched", "users_by_level")
            )
            results[name] = run | {"correct": correct}
            for stage, seconds in run["stages"].items():
                low, high = run["spread"][stage]
                print(f"  {stage:<32} {seconds:7.2f} s   ({low:.2f} to {high:.2f})")
            events_s = summary["tables"]["staging_events"] / run["stages"]["copy-staging_events"]
            print(f"  staging load of events           {events_s:9,.0f} events/s")
            print(f"  process wall time                {run['wall_s']:7.2f} s (with Python's start, server running)")
            if name in TEMPORARY_SERVER_DATASETS:
                temporary = results[name]["temporary_server"] = temporary_server_walls(
                    data, work / "temporary-server", repeat
                )
                print(f"  with Prefect's temporary server  {temporary['wall_s']:7.2f} s "
                      f"(first run on a new Prefect home: {temporary['first_wall_s']:.2f} s)")
            print(f"  peak RSS of the flow process     {run['peak_rss_mb']:7.0f} MB")
            print(f"  peak RSS of moto's process       {run['peak_moto_rss_mb']:7.0f} MB")
            print(f"  peak RSS of the run's processes  {run['peak_tree_rss_mb']:7.0f} MB (all but PostgreSQL's)")
            if expected is not None:
                verdict = "yes" if correct else "NO: " + json.dumps(summary["tables"])
                print(f"  counts equal the generator's     {verdict}")
            if run["plan"]:
                print("  songplays transform plan:\n" + "\n".join("    " + line for line in run["plan"].splitlines()))
            if name == REFERENCE_DATASET:
                print(f"\n== references on {name}, measured now in this process", flush=True)
                ref = references(data, Path(tmp) / "references", api)
                results["references"] = ref
                _print_references(ref, run["stages"])
                layer = results["layer"] = layer_cost()
                print(f"  Redshift SQL layer: {layer['statements']} statements a run, median "
                      f"{layer['median_s'] * 1e6:.0f} us each, {layer['run_s'] * 1e3:.0f} ms a run: "
                      f"{layer['run_s'] / run['stages']['end to end'] * 100:.2f}% of the run end to end")
    if "1m" in results and "5m" in results:
        a, b = results["1m"]["peak_tree_rss_mb"], results["5m"]["peak_tree_rss_mb"]
        print(f"\nPeak RSS of the run's processes 1m -> 5m: {a:.0f} MB -> {b:.0f} MB ({_rss_growth(a, b)})")
        a, b = results["1m"]["peak_moto_rss_mb"], results["5m"]["peak_moto_rss_mb"]
        print(f"Peak RSS of moto's process 1m -> 5m:      {a:.0f} MB -> {b:.0f} MB ({_rss_growth(a, b)})")
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
    line("COPY phase, in the flow", stages["COPY phase"],
         f"{versus(stages['COPY phase'], 'server_copy')} (first row of either COPY to the last)")
    line("COPY staging_events, row path only", ref["copy:staging_events:row_path"], f"{agrees} (checksum of every row)")
    for client, seconds in ref["get_loops"].items():
        bound = ", the bound" if client == ref["get_client"] else ""
        per = seconds / ref["song_files"] * 1000
        line(f"{client} parallel GETs of the songs", seconds, f"{per:.2f} ms per object{bound}")
    print(f"  {'':<34}(the bound: {per_object('get_bound', 'song_files')})")
    line("COPY staging_songs, alone", ref["copy:staging_songs"], versus(ref["copy:staging_songs"], "get_bound"))
    line("COPY staging_songs, in the flow", stages["copy-staging_songs"],
         f"{versus(stages['copy-staging_songs'], 'get_bound')} (beside the event COPY)")
    line("boto3 parallel PUTs of the data", ref["put_bound"], f"{per_object('put_bound', 'objects')}, the bound")
    line("filling the local S3", ref["upload"], f"{versus(ref['upload'], 'put_bound')} (moto's backend, no HTTP)")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or None))
