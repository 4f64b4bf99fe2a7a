"""Screenshot the sparkify-report artifact as the Prefect UI shows it, with headless Chromium.

    python deployments/screenshot_report.py OUT.png [--api-url http://127.0.0.1:4200/api]

It finds the newest `sparkify-report` artifact through the API, opens its page in the UI (served by
`prefect server start` next to the API), waits for the page to render, and saves a full-page PNG.
Chromium is Debian's `chromium` package (`apt-get install chromium`) or any Chrome on PATH.
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


def newest_report(api_url: str) -> str:
    """The id of the newest sparkify-report artifact."""
    response = httpx.post(
        f"{api_url}/artifacts/filter",
        json={"artifacts": {"key": {"any_": ["sparkify-report"]}}, "sort": "CREATED_DESC", "limit": 1},
        timeout=10,
    )
    response.raise_for_status()
    found = response.json()
    if not found:
        raise SystemExit(f"no sparkify-report artifact at {api_url}: run the flow against this server first")
    return found[0]["id"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def _capture(debugger: str, url: str, settle_s: float) -> bytes:
    async with websockets.connect(debugger, max_size=None) as page:
        ids = iter(range(1, 1_000_000))

        async def call(method: str, **params: object) -> dict:
            request_id = next(ids)
            await page.send(json.dumps({"id": request_id, "method": method, "params": params}))
            while True:
                message = json.loads(await page.recv())
                if message.get("id") == request_id:
                    return message.get("result", {})

        # Tall enough for the five charts: the UI scrolls inside its own panel, not the page.
        await call("Emulation.setDeviceMetricsOverride", width=1400, height=3400, deviceScaleFactor=1, mobile=False)
        await call("Page.navigate", url=url)
        # The UI is a single-page app: it fetches the artifact and renders the markdown after load.
        await asyncio.sleep(settle_s)
        shot = await call("Page.captureScreenshot", format="png")
        return base64.b64decode(shot["data"])


def screenshot(url: str, out: Path, settle_s: float = 12.0) -> None:
    browser = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if browser is None:
        raise SystemExit("no Chromium found: apt-get install chromium (or put Chrome on PATH)")
    port = _free_port()
    with tempfile.TemporaryDirectory() as profile:
        chrome = subprocess.Popen(
            [browser, "--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
             f"--remote-debugging-port={port}", f"--user-data-dir={profile}", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=2) as response:
                        pages = [p for p in json.load(response) if p["type"] == "page"]
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.3)
            out.write_bytes(asyncio.run(_capture(pages[0]["webSocketDebuggerUrl"], url, settle_s)))
        finally:
            chrome.terminate()
            chrome.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--api-url", default=os.environ.get("PREFECT_API_URL", "http://127.0.0.1:4200/api"))
    args = parser.parse_args()
    ui = args.api_url.removesuffix("/").removesuffix("/api")
    url = f"{ui}/artifacts/artifact/{newest_report(args.api_url)}"
    screenshot(url, args.out)
    print(f"{url} -> {args.out}")


if __name__ == "__main__":
    main()
