"""Open a page in headless Chromium over the DevTools protocol: console errors, images, a screenshot.

The browser is Debian's ``chromium`` (``make test`` installs it); the protocol is spoken over a
websocket with ``websocket-client``, so no driver binary is involved.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import websocket

BROWSERS = ("chromium", "chromium-browser", "google-chrome")
IMAGES_JS = "Array.from(document.images).map(i => [i.alt, i.complete, i.naturalWidth, i.naturalHeight])"


@dataclass
class PageCheck:
    title: str = ""
    errors: list[str] = field(default_factory=list)
    images: list[tuple[str, bool, int, int]] = field(default_factory=list)
    screenshot: bytes = b""
    fonts: dict[str, list[tuple[str, int]]] = field(default_factory=dict)  # selector -> (font family, glyphs)


def find_browser() -> str | None:
    return next((path for name in BROWSERS if (path := shutil.which(name))), None)


class DevTools:
    """One websocket to one page target; ``call`` waits for its reply and keeps the events it sees."""

    def __init__(self, url: str) -> None:
        self.socket = websocket.create_connection(url, timeout=30, suppress_origin=True)
        self.events: list[dict] = []
        self.next_id = 0

    def call(self, method: str, **params: object) -> dict:
        self.next_id += 1
        self.socket.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv())
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            self.events.append(message)

    def wait_for(self, method: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while not any(e.get("method") == method for e in self.events):
            if time.monotonic() > deadline:
                raise TimeoutError(f"no {method} within {timeout} s")
            self.events.append(json.loads(self.socket.recv()))

    def errors(self) -> list[str]:
        found = []
        for e in self.events:
            method, params = e.get("method"), e.get("params", {})
            if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                found.append("console: " + " ".join(str(a.get("value", a.get("description"))) for a in params["args"]))
            elif method == "Runtime.exceptionThrown":
                found.append("exception: " + params["exceptionDetails"].get("text", ""))
            elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
                found.append(f"log: {params['entry'].get('text')} {params['entry'].get('url', '')}")
        return found


def check_page(path: Path, browser: str, width: int = 1280, font_selectors: tuple[str, ...] = ()) -> PageCheck:
    """Load ``path`` and report its title, the errors logged while loading, its images, a screenshot, and the
    fonts the browser drew the first element of each of ``font_selectors`` with (what a reader sees: a font
    without the script's glyphs shows boxes)."""
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as profile:
        process = subprocess.Popen(
            [browser, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
             "--remote-debugging-port=0", f"--user-data-dir={profile}", f"--window-size={width},900", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
        try:
            port_file = Path(profile) / "DevToolsActivePort"
            deadline = time.monotonic() + 30
            while not (port_file.exists() and port_file.read_text().count("\n") >= 1):
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError(f"{browser} did not start its DevTools endpoint")
                time.sleep(0.1)
            port = port_file.read_text().splitlines()[0]
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list") as reply:
                target = next(t for t in json.load(reply) if t["type"] == "page")
            tools = DevTools(target["webSocketDebuggerUrl"])
            for domain in ("Page", "Runtime", "Log"):
                tools.call(f"{domain}.enable")
            tools.call("Page.navigate", url=path.resolve().as_uri())
            tools.wait_for("Page.loadEventFired")
            images = tools.call("Runtime.evaluate", expression=IMAGES_JS, returnByValue=True)["result"]["value"]
            title = tools.call("Runtime.evaluate", expression="document.title", returnByValue=True)["result"]["value"]
            shot = tools.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)
            fonts = _fonts(tools, font_selectors)
            return PageCheck(title, tools.errors(), [tuple(i) for i in images], base64.b64decode(shot["data"]), fonts)
        finally:
            os.killpg(process.pid, signal.SIGKILL)  # the browser and its helper processes
            process.wait()


def _fonts(tools: DevTools, selectors: tuple[str, ...]) -> dict[str, list[tuple[str, int]]]:
    if not selectors:
        return {}
    tools.call("DOM.enable")
    tools.call("CSS.enable")
    root = tools.call("DOM.getDocument", depth=-1)["root"]["nodeId"]
    found = {}
    for selector in selectors:
        node = tools.call("DOM.querySelector", nodeId=root, selector=selector)["nodeId"]
        if not node:
            found[selector] = []
            continue
        fonts = tools.call("CSS.getPlatformFontsForNode", nodeId=node)["fonts"]
        found[selector] = [(f["familyName"], f["glyphCount"]) for f in fonts]
    return found
