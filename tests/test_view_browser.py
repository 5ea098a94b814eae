"""The coach view in a real headless browser (Debian's chromium through selenium).

It connects, shows events as they are published, and the coach's clicks and keys reach
the ControlQueue the live loop drains. Skips when chromium/chromedriver are missing.
"""

from __future__ import annotations

import os
import shutil
import time
from typing import Any, Callable, Iterator

import pytest

from facilitator.events import Control, ControlQueue, EventBus
from facilitator.review.sample import sample_events
from facilitator.view import CoachView

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
         "--window-size=1400,1000")

if not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)):
    pytest.skip("Debian chromium and chromium-driver are not installed "
                "(run scripts/install_browser.sh)", allow_module_level=True)
webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed")

from selenium.common.exceptions import TimeoutException  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    os.environ.setdefault("SE_OFFLINE", "true")     # selenium must never fetch a driver or browser
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    service = webdriver.ChromeService(executable_path=CHROMEDRIVER)
    try:
        driver = webdriver.Chrome(service=service, options=options)
    except Exception as error:  # pragma: no cover - depends on the machine
        pytest.skip(f"chromium did not start: {error}")
    driver.set_page_load_timeout(15)
    yield driver
    driver.quit()


@pytest.fixture
def view() -> Iterator[CoachView]:
    coach = CoachView(EventBus(), ControlQueue())
    coach.start()
    yield coach
    coach.stop()


def wait_for(browser: Any, condition: Callable[[], Any], seconds: float = 5.0) -> Any:
    return WebDriverWait(browser, seconds, poll_frequency=0.02).until(lambda _: condition())


def text(browser: Any, element_id: str) -> str:
    return browser.find_element(By.ID, element_id).text


def transcript_turns(browser: Any) -> list[str]:
    return [li.text for li in browser.find_elements(By.CSS_SELECTOR, "#transcript li[data-type=turn]")]


def controls_seen(controls: ControlQueue, count: int, seconds: float = 5.0) -> list[Control]:
    seen: list[Control] = []
    deadline = time.monotonic() + seconds
    while len(seen) < count and time.monotonic() < deadline:
        seen += controls.drain()
        time.sleep(0.02)
    return seen


def test_page_replays_then_follows_the_session(browser: Any, view: CoachView) -> None:
    events = sample_events()
    first_mirror = next(i for i, e in enumerate(events) if e["type"] == "verdict" and e["kind"] == "mirror")
    for event in events[:first_mirror]:
        view.bus.publish(event)
    browser.get(view.url)
    wait_for(browser, lambda: browser.find_element(By.TAG_NAME, "body").get_attribute("data-connected") == "yes")
    wait_for(browser, lambda: len(transcript_turns(browser)) == 3)
    assert text(browser, "couple") == "Alex & Sam"
    assert "Round 1 · Mirroring · Alex sends, Sam receives" in text(browser, "step")
    assert text(browser, "prompt") == "Sam, please mirror: what I hear you saying is..."
    assert "Alex" in text(browser, "balance-text") and "Sam" in text(browser, "balance-text")

    # each new event shows within a second of being published
    for event in events[first_mirror:first_mirror + 6]:
        before = int(browser.find_element(By.TAG_NAME, "body").get_attribute("data-events"))
        sent = time.monotonic()
        view.bus.publish(event)
        wait_for(browser, lambda: int(browser.find_element(By.TAG_NAME, "body")
                                      .get_attribute("data-events")) == before + 1, seconds=2)
        assert time.monotonic() - sent < 1.0
    verdicts = [li.text for li in browser.find_elements(By.CSS_SELECTOR, "#verdicts li")]  # latest first
    assert verdicts[0].startswith("Mirror by Sam, try 2: mirror · score 0.92")
    assert verdicts[1].startswith("Mirror by Sam, try 1: partial · score 0.50\nMissed: tired, worked, day")
    # every verdict has the button; only those the facilitator can still act on are enabled
    buttons = browser.find_elements(By.CSS_SELECTOR, "#verdicts li button.wrong")
    assert len(buttons) == len(verdicts) == 3
    assert [b.is_enabled() for b in buttons] == [True, False, False]
    assert "it passed at a later try" in verdicts[1] and "the session has moved on" in verdicts[2]
    assert "What I hear you saying is you feel tired" in transcript_turns(browser)[-1]
    assert "Sam talked over the turn" in text(browser, "transcript")


def test_clicks_and_keys_reach_the_facilitator(browser: Any, view: CoachView) -> None:
    for event in sample_events()[:14]:
        view.bus.publish(event)
    browser.get(view.url)
    wait_for(browser, lambda: browser.find_elements(By.CSS_SELECTOR, "#verdicts li button.wrong"))

    browser.find_element(By.CSS_SELECTOR, "button[data-action=pause]").click()
    assert controls_seen(view.controls, 1) == [Control("pause", source="coach")]
    wait_for(browser, lambda: text(browser, "feedback") == "Sent: pause")

    # the latest mirror verdict was "partial": marking it wrong asks for "mirror"
    browser.find_element(By.CSS_SELECTOR, "#verdicts li button.wrong").click()
    assert controls_seen(view.controls, 1) == [
        Control("override", source="coach", detail={"kind": "mirror", "label": "mirror"})]
    view.bus.publish({"type": "override", "t": 30.0, "kind": "mirror", "label": "mirror", "source": "coach"})
    wait_for(browser, lambda: "(coach marked it mirror)" in browser.find_element(By.CSS_SELECTOR, "#verdicts li").text)

    body = browser.find_element(By.TAG_NAME, "body")
    for key in "rsc":
        body.send_keys(key)
    assert [c.action for c in controls_seen(view.controls, 3)] == ["repeat", "skip", "resume"]
    browser.find_element(By.ID, "shortcuts").click()          # single-key shortcuts can be turned off
    body.send_keys("p")
    assert controls_seen(view.controls, 1, seconds=0.3) == []

    browser.find_element(By.CSS_SELECTOR, "button[data-action=stop]").click()
    wait_for(browser, lambda: browser.switch_to.alert).accept()
    assert controls_seen(view.controls, 1) == [Control("stop", source="coach")]

    view.bus.publish({"type": "control", "t": 31.0, "action": "pause", "source": "coach"})
    wait_for(browser, lambda: text(browser, "banner") == "Paused")
    view.bus.publish({"type": "end", "t": 32.0, "reason": "stopped"})
    wait_for(browser, lambda: "Session ended (stopped)" in text(browser, "banner"))
    assert all(not b.is_enabled() for b in browser.find_elements(By.CSS_SELECTOR, "#controls button"))


def test_page_without_token_is_refused(browser: Any, view: CoachView) -> None:
    browser.get(view.url.split("?")[0])
    assert "Forbidden" in browser.find_element(By.TAG_NAME, "body").text
    with pytest.raises(TimeoutException):
        wait_for(browser, lambda: browser.find_elements(By.ID, "controls"), seconds=0.3)


def test_talk_bar_is_empty_until_someone_speaks(browser: Any, view: CoachView) -> None:
    browser.get(view.url)
    wait_for(browser, lambda: browser.find_element(By.TAG_NAME, "body").get_attribute("data-connected") == "yes")
    bar = browser.find_element(By.ID, "balance-bar")
    widths = lambda: [s.size["width"] for s in bar.find_elements(By.TAG_NAME, "span")]  # noqa: E731
    assert text(browser, "balance-text") == "No one has spoken yet."
    assert widths() == [0, 0] and "empty" in bar.get_attribute("class")
    view.bus.publish({"type": "session", "t": 0.0, "names": {"A": "Alex", "B": "Sam"}})
    view.bus.publish({"type": "step", "t": 0.5, "name": "summary_confirm", "round": 1, "sender": "A", "receiver": "B"})
    wait_for(browser, lambda: "Checking the summary" in text(browser, "step"))
    assert "summary_confirm" not in text(browser, "step")
    assert widths() == [0, 0]
    view.bus.publish({"type": "turn", "t": 4.0, "speaker": "A", "step": "summary_confirm", "text": "Yes.",
                      "start": 1.0, "end": 4.0})
    wait_for(browser, lambda: text(browser, "balance-text").startswith("Alex 0:03 (100%)"))
    assert "Checking the summary" in transcript_turns(browser)[0]
    wait_for(browser, lambda: widths()[0] > 0 and widths()[1] == 0)
    assert "empty" not in bar.get_attribute("class")


def test_failed_verdicts_can_be_marked_wrong(browser: Any, view: CoachView) -> None:
    events = sample_events()
    first_mirror = next(i for i, e in enumerate(events) if e["type"] == "verdict" and e["kind"] == "mirror")
    for event in events[:first_mirror + 1]:                  # ... mirror try 1: partial
        view.bus.publish(event)
    view.bus.publish(dict(events[first_mirror], t=40.0, attempt=2, score=0.4))   # try 2: partial again
    browser.get(view.url)
    wait_for(browser, lambda: len(browser.find_elements(By.CSS_SELECTOR, "#verdicts li")) == 3)
    buttons = browser.find_elements(By.CSS_SELECTOR, "#verdicts li button.wrong")   # latest first
    assert [b.is_enabled() for b in buttons] == [True, True, False]
    buttons[1].click()                                       # try 1 was right after all: move on
    assert controls_seen(view.controls, 1) == [
        Control("override", source="coach", detail={"kind": "mirror", "label": "mirror"})]
    view.bus.publish({"type": "override", "t": 41.0, "kind": "mirror", "label": "mirror", "source": "coach"})
    wait_for(browser, lambda: "(coach marked it mirror)" in browser.find_element(By.CSS_SELECTOR, "#verdicts li").text)
    wait_for(browser, lambda: not buttons[1].is_enabled())   # the mirror has passed now
    assert buttons[0].is_enabled()                           # the coach can still undo it
    buttons[0].click()
    assert controls_seen(view.controls, 1) == [
        Control("override", source="coach", detail={"kind": "mirror", "label": "not_mirror"})]
    view.bus.publish({"type": "verdict", "t": 50.0, "kind": "summary", "label": "partial", "score": 0.5,
                      "missing": ["dinner"], "intrusions": [], "attempt": 1, "step": "summary", "round": 1})
    wait_for(browser, lambda: len(browser.find_elements(By.CSS_SELECTOR, "#verdicts li")) == 4)
    assert "the session has moved on" in browser.find_elements(By.CSS_SELECTOR, "#verdicts li")[1].text
    browser.find_element(By.TAG_NAME, "body").send_keys("w")     # W: the latest, a failed summary
    assert controls_seen(view.controls, 1) == [
        Control("override", source="coach", detail={"kind": "summary", "label": "complete"})]


def test_report_key_numbers_stay_in_their_boxes(browser: Any, tmp_path: Any) -> None:
    from facilitator.review.analysis import analyse
    from facilitator.review.report import render_html

    session = analyse([e for e in sample_events() if e["type"] != "end"])   # the longest Ending text
    page = tmp_path / "report.html"
    page.write_text(render_html(session), encoding="utf-8")
    for width in (1400, 700, 380):
        browser.set_window_size(width, 1000)
        browser.get(page.as_uri())
        overflowing = browser.execute_script("""
            return [...document.querySelectorAll('.numbers li')].filter((li) => {
              const box = li.getBoundingClientRect();
              return li.scrollWidth > li.clientWidth + 1 || [...li.querySelectorAll('b')].some((b) => {
                const r = b.getBoundingClientRect(); return r.right > box.right + 1; });
            }).map((li) => li.textContent);""")
        assert overflowing == [], (width, overflowing)
    browser.set_window_size(1400, 1000)
