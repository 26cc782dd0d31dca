"""The pages in a real headless Chromium (Debian's chromium and chromium-driver), against a real worker.

The worker has the API token set and has consumed six weeks of traffic in which every account's usage
drops, one account having a hostile id and CSM. The browser is asked for the token, logs in, then reads
the at-risk list and the account's page. `UI_SCREENSHOTS_DIR=docs/img` also saves the README's
screenshots (with an ordinary account id in place of the hostile one).
"""

from __future__ import annotations

import os
import shutil
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest

from healthmon.generator import generate
from healthmon.generator.records import Record
from healthmon.produce import produce
from tests.fixtures import WorkerProcess, isolated_settings, run
from tests.serving.conftest import wait_for_events

CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")
if CHROMIUM is None or CHROMEDRIVER is None:
    pytest.skip("Debian's chromium and chromium-driver are not installed (`make tools` installs them)",
                allow_module_level=True)

from selenium import webdriver  # noqa: E402  (only once Chromium is known to be there)
from selenium.common.exceptions import NoAlertPresentException  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402

TOKEN = "ui-tok-5e2b-never-shown"
SCREENSHOTS = os.environ.get("UI_SCREENSHOTS_DIR")
HOSTILE_ID = '<script>alert("id")</script>' if not SCREENSHOTS else "acme-corp"
HOSTILE_CSM = "<b>eve</b> & <i>co</i>" if not SCREENSHOTS else "dana@example.com"

pytestmark = [pytest.mark.integration, pytest.mark.slow]
# the tests share one browser (and its cookie) and one worker: each logs in itself, so any order works


@dataclass
class UiWorker:
    """A worker with a token that consumed a drop for every account, and the renamed account's id and CSM."""

    worker: WorkerProcess
    account_id: str
    csm: str

    def api(self, path: str, **headers: str) -> tuple[int, Any]:
        """GET `path` on the JSON API with the bearer token unless other headers are given."""
        request = urllib.request.Request(self.worker.url(path),
                                         headers=headers or {"Authorization": f"Bearer {TOKEN}"})
        try:
            with urllib.request.urlopen(request, timeout=5) as resp:
                return resp.status, orjson.loads(resp.read())
        except urllib.error.HTTPError as exc:
            return exc.code, orjson.loads(exc.read())


def rename(records: Iterator[Record], account_id: str, new_id: str, csm: str) -> Iterator[Record]:
    """Yield the records with `account_id` renamed to `new_id`, its profile's CSM set to `csm`."""
    for record in records:
        if record.key != account_id:
            yield record
            continue
        value = {**record.value, "account_id": new_id}
        if "csm" in value:
            value["csm"] = csm
        yield Record(record.kind, new_id, value, record.occurred_at)


@pytest.fixture(scope="module")
def ui_worker(broker_url: str, redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[UiWorker]:
    """A real worker with an API token, after six weeks in which every account's usage drops."""
    import redis

    from tests.conftest import settings_env

    tmp = tmp_path_factory.mktemp("ui-worker")
    token_file = tmp / "token"
    token_file.write_text(TOKEN + "\n")
    settings = isolated_settings(broker_url, redis_url, tmp / "data", prefix="ui", http={"api_token_file": token_file})
    worker = WorkerProcess(settings_env(settings), tmp / "worker.log", settings.http.port).start()
    try:
        worker.wait_ready(120)
        traffic = generate(accounts=6, scenario="drop", seed=11, affected_ratio=1.0,
                           start_ms=int(time.time() * 1000) - 43 * 86_400_000, days=42)
        first = next(r.key for r in traffic.records() if r.kind == "account")
        stats = run(produce(settings, broker_url, rename(traffic.records(), first, HOSTILE_ID, HOSTILE_CSM),
                            rate=0, batch_size=20))
        wait_for_events(worker, stats.events)
        ui = UiWorker(worker, HOSTILE_ID, HOSTILE_CSM)
        path = "/accounts/" + urllib.parse.quote(HOSTILE_ID, safe="")
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:  # the view is written by a timer: wait until it holds the drop
            status, body = ui.api(path)
            if status == 200 and body["account"]["band"] in ("red", "yellow") and body["recent_alerts"]:
                break
            time.sleep(0.5)
        else:
            raise AssertionError(f"{HOSTILE_ID!r} never reached the view at risk:\n{worker.log_tail()}")
        yield ui
    finally:
        worker.stop()
        client = redis.Redis.from_url(redis_url)
        keys = list(client.scan_iter(match=settings.redis.prefix + "*", count=1000))
        if keys:
            client.delete(*keys)
        client.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[webdriver.Chrome]:
    """A headless Debian Chromium driven by Debian's chromedriver (never a downloaded one)."""
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1100,900"):
        options.add_argument(arg)
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=CHROMEDRIVER))
    try:
        yield driver
    finally:
        driver.quit()


def no_script_ran(driver: webdriver.Chrome) -> bool:
    """Return whether the page holds no <script> element and no alert dialog is open."""
    try:
        return driver.switch_to.alert is None
    except NoAlertPresentException:
        return not driver.find_elements(By.TAG_NAME, "script")


def screenshot(driver: webdriver.Chrome, name: str) -> None:
    """Save the whole page as `UI_SCREENSHOTS_DIR/name` when screenshots are asked for."""
    if not SCREENSHOTS:
        return
    # The whole page, not the window: the viewport is stretched to the content's height for the capture.
    height = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]["height"]
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": 1100, "height": min(int(height) + 24, 2400), "deviceScaleFactor": 1, "mobile": False})
    Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(Path(SCREENSHOTS) / name))
    driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def log_in(driver: webdriver.Chrome, ui: UiWorker) -> None:
    """Open `/ui/`, giving the token in its form if the page asks for it."""
    driver.get(ui.worker.url("/ui/"))
    if driver.find_elements(By.NAME, "token"):
        driver.find_element(By.NAME, "token").send_keys(TOKEN)
        driver.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    assert driver.find_element(By.TAG_NAME, "h1").text == "Accounts at risk"


def test_a_page_asks_for_the_token_refuses_a_wrong_one_then_keeps_it(ui_worker: UiWorker, browser):
    browser.get(ui_worker.worker.url("/ui/"))
    browser.delete_all_cookies()
    browser.get(ui_worker.worker.url("/ui/"))
    assert browser.find_element(By.TAG_NAME, "h1").text == "API token"
    screenshot(browser, "ui-login.png")
    browser.find_element(By.NAME, "token").send_keys(TOKEN + "x")
    browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    assert "Wrong token" in browser.find_element(By.CLASS_NAME, "error").text
    assert browser.get_cookie("healthmon_token") is None

    browser.find_element(By.NAME, "token").send_keys(TOKEN)
    browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    assert browser.find_element(By.TAG_NAME, "h1").text == "Accounts at risk"
    assert urllib.parse.urlsplit(browser.current_url).path == "/ui/"
    cookie = browser.get_cookie("healthmon_token")
    assert cookie is not None and cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["path"] == "/ui"

    browser.get(ui_worker.worker.url("/ui/"))  # asked once: the next visit goes straight to the page
    assert browser.find_element(By.TAG_NAME, "h1").text == "Accounts at risk"


def test_the_json_api_still_wants_the_bearer_header(ui_worker: UiWorker, browser):
    log_in(browser, ui_worker)
    browser.get(ui_worker.worker.url("/accounts"))
    assert '"status":401' in browser.find_element(By.TAG_NAME, "body").text.replace(" ", "")
    status, body = ui_worker.api("/accounts", Cookie=f"healthmon_token={TOKEN}")
    assert status == 401 and "missing API token" in body["error"]


def test_the_at_risk_list_shows_the_account_under_its_csm_with_sparkline_and_reasons(ui_worker: UiWorker, browser):
    log_in(browser, ui_worker)
    sections = {s.find_element(By.TAG_NAME, "h2").text.rsplit(" (", 1)[0]: s
                for s in browser.find_elements(By.CSS_SELECTOR, "section.csm")}
    assert ui_worker.csm in sections, sorted(sections)
    rows = [r for r in sections[ui_worker.csm].find_elements(By.CSS_SELECTOR, "tr.account")
            if r.find_element(By.TAG_NAME, "a").text.startswith(ui_worker.account_id)]
    assert len(rows) == 1
    row = rows[0]
    _, account = ui_worker.api("/accounts/" + urllib.parse.quote(ui_worker.account_id, safe=""))
    assert row.find_element(By.CLASS_NAME, "band").text == account["account"]["band"]
    assert row.find_elements(By.CSS_SELECTOR, "svg.spark polyline"), "no sparkline drawn"
    costliest = [m["name"] for m in account["why"] if (m["points_lost"] or 0) > 0][:1]
    assert costliest and costliest[0] in row.text
    for line in account["account"]["firing"]:
        assert line in row.text
    assert no_script_ran(browser)
    total = sum(len(ui_worker.api(f"/accounts?band={band}&limit=1000")[1]["accounts"]) for band in ("red", "yellow"))
    assert len(browser.find_elements(By.CSS_SELECTOR, "tr.account")) == total
    screenshot(browser, "ui-at-risk.png")


def test_the_account_page_shows_score_and_band_over_time_and_its_alerts(ui_worker: UiWorker, browser):
    log_in(browser, ui_worker)
    link = next(a for a in browser.find_elements(By.CSS_SELECTOR, "tr.account a")
                if a.text.startswith(ui_worker.account_id))
    link.click()
    quoted = urllib.parse.quote(ui_worker.account_id, safe="")
    assert urllib.parse.urlsplit(browser.current_url).path == f"/ui/accounts/{quoted}"
    assert browser.find_element(By.TAG_NAME, "h1").text.startswith(ui_worker.account_id)
    _, history = ui_worker.api(f"/accounts/{quoted}/history?days=90")
    _, account = ui_worker.api(f"/accounts/{quoted}")
    chart = browser.find_element(By.CSS_SELECTOR, "svg.chart")
    assert len(chart.find_elements(By.CSS_SELECTOR, "rect.band-day")) == len(history["points"]) >= 30
    assert len(chart.find_elements(By.CSS_SELECTOR, "circle.day")) == sum(
        p["score"] is not None for p in history["points"])
    assert len(browser.find_elements(By.CSS_SELECTOR, "tr.alert")) == len(account["recent_alerts"]) >= 1
    summaries = browser.find_element(By.TAG_NAME, "body").text
    assert account["recent_alerts"][0]["summary"] in summaries
    assert no_script_ran(browser)
    screenshot(browser, "ui-account.png")


def test_an_unknown_account_is_a_404_page(ui_worker: UiWorker, browser):
    log_in(browser, ui_worker)
    browser.get(ui_worker.worker.url("/ui/accounts/no-such-account"))
    assert browser.find_element(By.TAG_NAME, "h1").text == "Unknown account"


def post_form(url: str, **fields: str) -> tuple[int, dict[str, str], str]:
    """POST a urlencoded form without following redirects; return (status, headers, body)."""

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    request = urllib.request.Request(url, data=urllib.parse.urlencode(fields).encode(), method="POST")
    try:
        with urllib.request.build_opener(NoRedirect).open(request, timeout=5) as resp:
            return resp.status, dict(resp.headers), resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read().decode()


def test_the_login_answers_401_to_a_wrong_token_and_sets_a_strict_cookie_for_the_right_one(ui_worker: UiWorker):
    status, headers, body = post_form(ui_worker.worker.url("/ui/login"), token="nope", next="/ui/")
    assert status == 401 and "Wrong token" in body and "Set-Cookie" not in headers
    status, headers, _ = post_form(ui_worker.worker.url("/ui/login"), token=TOKEN, next="/ui/accounts/x")
    assert (status, headers["Location"]) == (303, "/ui/accounts/x")
    cookie = headers["Set-Cookie"]
    assert cookie.startswith(f"healthmon_token={TOKEN};") and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert "Path=/ui" in cookie
    status, headers, _ = post_form(ui_worker.worker.url("/ui/login"), token=TOKEN, next="//evil.example/")
    assert (status, headers["Location"]) == (303, "/ui/")


@pytest.mark.parametrize("path", ["/ui/", "/ui/accounts/x"])
def test_a_page_without_the_token_is_a_401_form_and_forbids_scripts(ui_worker: UiWorker, path: str):
    try:
        urllib.request.urlopen(ui_worker.worker.url(path), timeout=5)
        raise AssertionError("answered without the token")
    except urllib.error.HTTPError as exc:
        status, headers, body = exc.code, exc.headers, exc.read().decode()
    assert status == 401 and 'name="token"' in body and f'name="next" value="{path}"' in body
    assert headers["Content-Type"].startswith("text/html")
    assert "default-src 'none'" in headers["Content-Security-Policy"] and "script-src" not in headers[
        "Content-Security-Policy"]
