"""Screenshot pages of the Prefect UI as a user sees them, with headless Chromium.

    python deployments/screenshot_report.py OUT.png                                # the newest report
    python deployments/screenshot_report.py OUT.png --page form                    # a deployment's run form
    python deployments/screenshot_report.py OUT.png --page artifacts [--flow-run ID]   # a run's artifacts

The pages come from the UI that `prefect server start` serves next to the API (its current one,
under /v2). The script waits until the page shows what it is expected to show, then saves a PNG and
prints the page's text. Chromium is Debian's `chromium` package (`apt-get install chromium`) or any
Chrome on PATH.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

import httpx
import websockets


def _post(api_url: str, path: str, body: dict) -> list[dict]:
    response = httpx.post(f"{api_url}{path}", json=body, timeout=10)
    response.raise_for_status()
    return response.json()


def newest_artifact(api_url: str, prefix: str = "sparkify-report") -> dict:
    """The newest artifact whose key starts with `prefix`."""
    found = _post(api_url, "/artifacts/filter", {"sort": "CREATED_DESC", "limit": 50})
    for artifact in found:
        if (artifact.get("key") or "").startswith(prefix):
            return artifact
    raise SystemExit(f"no {prefix} artifact at {api_url}: run the flow against this server first")


def page(api_url: str, kind: str, deployment: str, flow_run: str | None) -> tuple[str, str]:
    """The UI's URL of the page to shoot, and a text that shows once it has rendered."""
    ui = api_url.removesuffix("/").removesuffix("/api")
    if kind == "form":
        flow, name = deployment.split("/")
        found = httpx.get(f"{api_url}/deployments/name/{flow}/{name}", timeout=10)
        found.raise_for_status()
        return f"{ui}/v2/deployments/deployment/{found.json()['id']}/run", "the cluster port"
    if kind == "artifacts":
        run_id = flow_run or newest_artifact(api_url)["flow_run_id"]
        return f"{ui}/v2/runs/flow-run/{run_id}?tab=Artifacts", "sparkify-summary"
    return f"{ui}/v2/artifacts/artifact/{newest_artifact(api_url)['id']}", "Sparkify warehouse report"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def _render(debugger: str, url: str, expect: str, timeout_s: float) -> tuple[str, bytes]:
    async with websockets.connect(debugger, max_size=None) as tab:
        ids = iter(range(1, 1_000_000))

        async def call(method: str, **params: object) -> dict:
            request_id = next(ids)
            await tab.send(json.dumps({"id": request_id, "method": method, "params": params}))
            while True:
                message = json.loads(await tab.recv())
                if message.get("id") == request_id:
                    return message.get("result", {})

        # Tall enough for the report's five charts: the UI scrolls inside its own panel, not the page.
        await call("Emulation.setDeviceMetricsOverride", width=1400, height=3400, deviceScaleFactor=1, mobile=False)
        await call("Page.navigate", url=url)
        # The UI is a single-page app that fetches and renders after load: wait for its text.
        deadline, text = time.monotonic() + timeout_s, ""
        while time.monotonic() < deadline and expect not in text:
            await asyncio.sleep(1)
            found = await call("Runtime.evaluate", expression="document.body.innerText", returnByValue=True)
            text = found.get("result", {}).get("value", "")
        await asyncio.sleep(2)  # let the charts paint
        shot = await call("Page.captureScreenshot", format="png")
        return text, base64.b64decode(shot["data"])


def screenshot(url: str, out: Path, expect: str, timeout_s: float = 45.0) -> str:
    """Save the page at `url` to `out` once it shows `expect`; return its text."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if browser is None:
        raise SystemExit("no Chromium found: apt-get install chromium (or put Chrome on PATH)")
    port = _free_port()
    # Chromium's helpers may still write to the profile after it exits: tolerate that on cleanup.
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as profile:
        chrome = subprocess.Popen(
            [browser, "--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
             "--disable-background-networking", "--no-first-run", f"--remote-debugging-port={port}",
             f"--user-data-dir={profile}", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=2) as response:
                        tabs = [p for p in json.load(response) if p["type"] == "page"]
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.3)
            text, image = asyncio.run(_render(tabs[0]["webSocketDebuggerUrl"], url, expect, timeout_s))
        finally:
            chrome.terminate()
            chrome.wait(timeout=30)
    out.write_bytes(image)
    if expect not in text:
        raise SystemExit(f"{url} did not show {expect!r} within {timeout_s:.0f} s; see {out}")
    return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--page", choices=["report", "form", "artifacts"], default="report")
    parser.add_argument("--deployment", default="sparkify-etl/local-daily", help="for --page form")
    parser.add_argument("--flow-run", help="for --page artifacts (default: the newest report's run)")
    parser.add_argument("--api-url", default=os.environ.get("PREFECT_API_URL", "http://127.0.0.1:4200/api"))
    args = parser.parse_args()
    url, expect = page(args.api_url, args.page, args.deployment, args.flow_run)
    text = screenshot(url, args.out, expect)
    print(f"{url} -> {args.out}\n{text}")


if __name__ == "__main__":
    main()
