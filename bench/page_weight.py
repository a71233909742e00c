"""5. Page weight: bytes transferred per page in Debian's Chromium (Playwright), cold (empty
cache) and warm (the same page visited again), and every request to a host other than the
portal (target 0). Bytes are Chromium's own count of what crossed the wire, as sent (compressed,
headers included, `encodedDataLength`). Target: each page's first (cold) load ≤ 35 KB.

    .venv/bin/python -m bench.page_weight      (its own small data set; `bench.run` measures
                                                the pages of the 100,000-request data set)
"""
import os
from urllib.parse import urlsplit

from bench.common import PASSWORD, Bench, dump, make_user, phase

CHROMIUM = os.environ.get("BENCH_CHROMIUM", "/usr/bin/chromium")
COLD_MAX_BYTES = 35 * 1000  # a page's first load on the wire


class Recorder:
    """Every request of a page, with its size on the wire, from the DevTools protocol."""

    def __init__(self, context, page):
        self.records = {}
        cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.on("Network.requestWillBeSent", lambda e: self.records.setdefault(
            e["requestId"], {"url": e["request"]["url"], "bytes": 0, "cache": False}))
        cdp.on("Network.requestServedFromCache", lambda e: self._set(e, cache=True))
        cdp.on("Network.responseReceived", lambda e: self._set(
            e, status=e["response"]["status"], type=e["response"].get("mimeType", ""),
            encoding={k.lower(): v for k, v in e["response"].get("headers", {}).items()}.get("content-encoding")))
        cdp.on("Network.loadingFinished", lambda e: self._set(e, bytes=int(e["encodedDataLength"])))
        self.cdp = cdp

    def _set(self, event, **values):
        record = self.records.get(event["requestId"])
        if record is not None:  # else it began before this load (a poll of the page before)
            record.update(values)

    def clear_cache(self):
        self.cdp.send("Network.clearBrowserCache")

    def load(self, page, url):
        self.records.clear()
        page.goto(url, wait_until="networkidle")
        loaded = list(self.records.values())
        self.records.clear()
        return loaded


def summarize(records, base_url):
    host = urlsplit(base_url).netloc
    foreign = [r["url"] for r in records if not r["url"].startswith("data:") and urlsplit(r["url"]).netloc != host]
    on_wire = [r for r in records if not r["url"].startswith("data:")]
    text = [r for r in on_wire if r.get("status") == 200 and
            any(t in r.get("type", "") for t in ("html", "css", "javascript"))]
    return {"requests": len(on_wire), "bytes": sum(r["bytes"] for r in on_wire),
            "text_uncompressed": sum(r["bytes"] for r in text if not r.get("encoding")),
            "from_cache": sum(1 for r in on_wire if r["cache"]),
            "not_modified": sum(1 for r in on_wire if r.get("status") == 304),
            "other_hosts": foreign,
            "by_url": {urlsplit(r["url"]).path: r["bytes"] for r in on_wire}}


def measure(base_url, email, pages):
    """{page name: {"cold": ..., "warm": ...}} for `pages` [(name, path, logged in?)]."""
    from playwright.sync_api import sync_playwright
    results = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        try:
            for name, path, login in pages:
                context = browser.new_context()
                page = context.new_page()
                recorder = Recorder(context, page)
                if login:
                    page.goto(base_url + "/auth/login")
                    page.fill("input[name=email]", email)
                    page.fill("input[name=password]", PASSWORD)
                    page.click("button[type=submit]")
                    page.wait_for_url("**/requests/**")
                recorder.clear_cache()
                cold = summarize(recorder.load(page, base_url + path), base_url)
                warm = summarize(recorder.load(page, base_url + path), base_url)
                results[name] = {"path": path, "cold": cold, "warm": warm}
                context.close()
        finally:
            browser.close()
    return results


def user_pages(detail_id):
    return [("log-in page", "/auth/login", False), ("request list (25 rows)", "/requests/", True),
            ("new-request form", "/requests/new", True), ("request detail", f"/requests/{detail_id}", True)]


def run(base_url=None, email=None, detail_id=None):
    """Against a running server (from bench.list_scale), or with a small data set of its own."""
    if not os.path.exists(CHROMIUM):
        return {"skipped": f"Chromium is not installed at {CHROMIUM} (make browser installs it)"}
    if base_url:
        with phase("page weight"):
            pages = measure(base_url, email, user_pages(detail_id))
    else:
        with Bench("pages") as bench, bench.app.app_context():
            from bench.list_scale import seed_catalog, seed_requests
            categories, products = seed_catalog()
            user = make_user("user0000@example.com")
            seed_requests(0, 40, [user.id], categories, products)
            base_url, _ = bench.procs.gunicorn("web")
            with phase("page weight"):
                pages = measure(base_url, "user0000@example.com", user_pages(detail_id or 1))
    foreign = sorted({url for page in pages.values() for visit in ("cold", "warm") for url in page[visit]["other_hosts"]})
    heaviest = max(page["cold"]["bytes"] for page in pages.values())
    return {"pages": pages, "other_hosts": foreign, "heaviest_cold": heaviest,
            "met": not foreign and heaviest <= COLD_MAX_BYTES}


def markdown(r):
    if "skipped" in r:
        return f"Not measured: {r['skipped']}."
    lines = [
        "Chromium (Playwright) on loopback; bytes as Chromium counts them on the wire, as sent "
        "(pages in brotli, static files precompressed; headers included). Cold: the browser cache "
        "emptied just before. Warm: the same page opened again. The baseline of each row is its "
        f"own cold load; the target is a cold load ≤ {COLD_MAX_BYTES:,} bytes.",
        "",
        "| page | cold: requests | cold: bytes (target ≤ 35 KB) | warm: requests (from cache, 304) | warm: bytes | warm vs cold | |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for name, page in r["pages"].items():
        cold, warm = page["cold"], page["warm"]
        lines.append(f"| {name} (`{page['path'].split('?')[0]}`) | {cold['requests']} | **{cold['bytes']:,}** | "
                     f"{warm['requests']} ({warm['from_cache']}, {warm['not_modified']}) | {warm['bytes']:,} | "
                     f"{warm['bytes'] / cold['bytes']:.2f}× | "
                     f"{'met' if cold['bytes'] <= COLD_MAX_BYTES else '**missed**'} |")
    count = len(r["other_hosts"])
    lines += ["", f"Requests to other hosts: **{count}** (target 0)" +
              (": " + ", ".join(f"`{u}`" for u in r["other_hosts"]) if count else ".")]
    first = next(iter(r["pages"].values()))
    cold, warm = first["cold"], first["warm"]
    if cold.get("text_uncompressed"):
        lines += ["", f"Not a target, but worth knowing: of the {cold['bytes']:,} bytes of a cold "
                      f"{next(iter(r['pages']))}, {cold['text_uncompressed']:,} are HTML, CSS and "
                      "JavaScript sent without compression (gzip, e.g. in a reverse proxy, sends about a "
                      f"third of that). Warm, {warm['from_cache']} of the page's {warm['requests'] - 1} "
                      "other requests come from the browser's cache without asking the server (static "
                      f"URLs carry a content hash and are cached for a year); {warm['not_modified']} were "
                      "answered `304 Not Modified`."]
    return "\n".join(lines)


if __name__ == "__main__":
    outcome = run()
    dump(outcome)
    print(markdown(outcome))
