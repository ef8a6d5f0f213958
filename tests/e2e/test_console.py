"""The staff console in a real browser (Debian's Chromium, headless, through Selenium) against a fresh local stack.

Each test sets up its data over HTTP as the app, the payment provider and other staff would (the demo's steps),
then works the console as a member of staff. Screenshots go to build/console-screenshots/. Without a browser
these tests fail (``make console-deps`` installs it); they never skip.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from selenium import webdriver
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from local_stack.auth import issue_token
from local_stack.demo import Demo, browse, order, order_status, pay, refund, wait_for
from local_stack.template import ROOT
from tests.e2e.conftest import RunningStack

SHOTS = ROOT / "build" / "console-screenshots"
XSS = "<img src=x onerror=alert(1)>"
WAIT_SECONDS = 20


def _find(*names: str) -> str | None:
    return next((found for name in names if (found := shutil.which(name))), None)


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    chromium = _find("chromium", "chromium-browser", "google-chrome")
    driver_path = _find("chromedriver")
    if not chromium or not driver_path:
        pytest.fail("Chromium and chromedriver are needed for the console tests: run `make console-deps`")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,1000"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    SHOTS.mkdir(parents=True, exist_ok=True)
    try:
        yield driver
    finally:
        driver.quit()


# --- helpers ---------------------------------------------------------------------------------
def wait(browser: WebDriver, condition: Callable[[Any], Any]) -> Any:
    return WebDriverWait(browser, WAIT_SECONDS).until(condition)


def element(browser: WebDriver, css: str) -> WebElement:
    found: WebElement = wait(browser, ec.visibility_of_element_located((By.CSS_SELECTOR, css)))
    return found


def text_in(browser: WebDriver, css: str, text: str) -> None:
    wait(browser, ec.text_to_be_present_in_element((By.CSS_SELECTOR, css), text))


def shot(browser: WebDriver, name: str) -> Path:
    path = SHOTS / name
    browser.save_screenshot(str(path))
    return path


def sign_in(browser: WebDriver, url: str, user: str, *groups: str) -> None:
    """The local dev sign-in, as a person would use it."""
    browser.get(f"{url}/console/")
    browser.execute_script("sessionStorage.clear()")
    browser.get(f"{url}/console/#/signin")
    browser.refresh()
    field = element(browser, "#dev-user")
    field.clear()
    field.send_keys(user)
    for group in groups:
        browser.find_element(By.ID, f"dev-{group}").click()
    browser.find_element(By.CSS_SELECTOR, "#dev-signin button[type=submit]").click()
    element(browser, "#signout")


def open_view(browser: WebDriver, url: str, route: str) -> None:
    browser.get(f"{url}/console/#/{route}")


def no_alert(browser: WebDriver) -> bool:
    try:
        text = browser.switch_to.alert.text
    except NoAlertPresentException:
        return True
    raise AssertionError(f"a script ran and opened an alert: {text!r}")


def paid_physical_order(url: str) -> Demo:
    demo = Demo(url)
    browse(demo)
    order(demo)
    pay(demo)
    return demo


def client_call(demo: Demo, method: str, path: str, **kwargs: Any) -> Any:
    return demo.call(method, path, as_user="client", **kwargs)


def in_review_queue(demo: Demo, refund_id: str) -> None:
    wait_for(
        demo,
        "the refund in the review queue",
        lambda: any(
            r["refund_id"] == refund_id
            for r in demo.call("GET", "/refunds?status=PENDING_REVIEW", as_user="r", groups=("reviewer",))["items"]
        ),
    )


# --- the tests -------------------------------------------------------------------------------
def test_the_console_is_served_with_a_csp_that_forbids_inline_script(local_stack: RunningStack) -> None:
    # When the console's page is fetched from the local stack
    page = requests.get(f"{local_stack.url}/console/", timeout=10)
    # Then it is the console, with the deployed security headers
    assert page.status_code == 200 and "Orders console" in page.text
    csp = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    # And nothing outside console/ is served
    assert requests.get(f"{local_stack.url}/console/..%2ftemplate.yaml", timeout=10).status_code == 404
    assert requests.get(f"{local_stack.url}/console/../template.yaml", timeout=10).status_code in (404, 400)


def test_a_reviewer_approves_a_refund_and_it_reaches_succeeded(local_stack: RunningStack, browser: WebDriver) -> None:
    # Given a paid order and a refund above the auto-approve threshold, waiting for review
    demo = paid_physical_order(local_stack.url)
    refund(demo)
    refund_id = demo.state["refund"]["refund_id"]
    in_review_queue(demo, refund_id)
    # When a reviewer opens the queue in the console
    sign_in(browser, local_stack.url, f"reviewer-{uuid.uuid4().hex[:6]}", "reviewer")
    open_view(browser, local_stack.url, "refunds")
    row = element(browser, f'tr[data-refund="{refund_id}"]')
    assert "left" in row.text or "overdue" in row.text  # the time left before the deadline's action
    shot(browser, "reviewer-queue.png")
    row.click()
    # Then the refund shows with its order: lines, timeline, payments
    text_in(browser, "#order-card", demo.state["physical"]["name"])
    text_in(browser, "main", "REFUND_REQUESTED")
    text_in(browser, "main", "payment_intent.succeeded")
    text_in(browser, "main", "Earlier refunds of")
    shot(browser, "reviewer-refund.png")
    # When they approve it with a note
    element(browser, "#decision-note").send_keys("Photo shows the chipped mug")
    browser.find_element(By.ID, "approve").click()
    text_in(browser, "#flash", "Refund approved")
    # Then the workflow refunds it at the provider: SUCCEEDED, as the console shows after a reload
    wait_for(
        demo,
        "the refund to succeed",
        lambda: client_call(demo, "GET", f"/refunds/{refund_id}")["status"] == "SUCCEEDED",
        timeout=30,
    )
    browser.refresh()
    text_in(browser, "#refund-status", "SUCCEEDED")
    text_in(browser, "#refund-card", "Photo shows the chipped mug")
    shot(browser, "reviewer-refund-succeeded.png")


def test_a_decision_taken_by_someone_else_is_shown_as_such(local_stack: RunningStack, browser: WebDriver) -> None:
    # Given a refund a reviewer has open in the console
    demo = paid_physical_order(local_stack.url)
    refund(demo)
    refund_id = demo.state["refund"]["refund_id"]
    in_review_queue(demo, refund_id)
    sign_in(browser, local_stack.url, f"reviewer-{uuid.uuid4().hex[:6]}", "reviewer")
    open_view(browser, local_stack.url, f"refunds/{refund_id}")
    element(browser, "#reject")
    # When another reviewer decides it first, then this one clicks reject
    demo.call(
        "POST", f"/refunds/{refund_id}/decision", as_user="other", groups=("reviewer",), json={"decision": "approve"}
    )
    browser.find_element(By.ID, "reject").click()
    # Then the console says so (409), and shows the decision that stands
    text_in(browser, "#flash", "Already decided by someone else")
    wait(browser, lambda b: "PENDING_REVIEW" not in b.find_element(By.ID, "refund-status").text)
    shot(browser, "reviewer-already-decided.png")


def test_support_answers_a_ticket_and_markup_stays_text(local_stack: RunningStack, browser: WebDriver) -> None:
    # Given a customer's ticket whose message is markup that would run script if rendered as HTML
    demo = paid_physical_order(local_stack.url)
    order_id = demo.state["order"]["order_id"]
    ticket = client_call(
        demo, "POST", f"/orders/{order_id}/tickets", json={"category": "damage", "message": XSS}, expect=201
    )
    ticket_id = ticket["ticket_id"]
    # When support opens it from the queue
    sign_in(browser, local_stack.url, f"agent-{uuid.uuid4().hex[:6]}", "support")
    open_view(browser, local_stack.url, "tickets")
    row = element(browser, f'tr[data-ticket="{ticket_id}"]')
    shot(browser, "support-queue.png")
    row.click()
    # Then the message is shown as the text it is: no element made from it, no script run
    text_in(browser, "#thread", XSS)
    assert browser.find_elements(By.CSS_SELECTOR, "#thread img, main img") == []
    assert no_alert(browser)
    shot(browser, "support-ticket-xss-as-text.png")
    # When they reply
    element(browser, "#reply-text").send_keys("Sorry about that: a replacement is on its way.")
    browser.find_element(By.ID, "send-reply").click()
    text_in(browser, "#thread", "a replacement is on its way")
    # Then the customer sees the answer and the ticket waits for them
    answered = client_call(demo, "GET", f"/tickets/{ticket_id}")
    assert answered["status"] == "ANSWERED"
    assert answered["messages"][-1]["message"] == "Sorry about that: a replacement is on its way."
    shot(browser, "support-ticket-answered.png")
    # When they resolve it / Then it is resolved
    browser.find_element(By.ID, "resolve").click()
    text_in(browser, "#ticket-status", "RESOLVED")
    assert client_call(demo, "GET", f"/tickets/{ticket_id}")["status"] == "RESOLVED"
    assert no_alert(browser)


def test_ops_ship_and_deliver_an_order(local_stack: RunningStack, browser: WebDriver) -> None:
    # Given a paid physical order waiting for shipment
    demo = paid_physical_order(local_stack.url)
    order_id = order_status(demo, "order", "PENDING_SHIPMENT")["order_id"]
    # When ops ship it from the shipping view with a carrier and a tracking number
    sign_in(browser, local_stack.url, f"ops-{uuid.uuid4().hex[:6]}", "ops")
    open_view(browser, local_stack.url, "shipping")
    row = element(browser, f'tr[data-order="{order_id}"]')
    shot(browser, "ops-shipping.png")
    row.find_element(By.NAME, "carrier").send_keys("DHL")
    row.find_element(By.NAME, "tracking").send_keys("JD0146000062")
    row.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    text_in(browser, "#flash", f"Order {order_id} shipped")
    # Then it waits for delivery; when ops record the delivery it is delivered
    delivered_row = element(browser, f'tr[data-order="{order_id}"] button.deliver')
    assert client_call(demo, "GET", f"/orders/{order_id}")["shipment"]["tracking_number"] == "JD0146000062"
    shot(browser, "ops-shipped.png")
    delivered_row.click()
    text_in(browser, "#flash", f"Order {order_id} delivered")
    assert client_call(demo, "GET", f"/orders/{order_id}")["status"] == "DELIVERED"


def test_ops_create_edit_and_deactivate_a_product(local_stack: RunningStack, browser: WebDriver) -> None:
    sku = f"mug-{uuid.uuid4().hex[:6]}"
    # When ops create a product in the catalog view
    sign_in(browser, local_stack.url, f"ops-{uuid.uuid4().hex[:6]}", "ops")
    open_view(browser, local_stack.url, "catalog")
    new = element(browser, "section.card form.product-form")
    new.find_element(By.NAME, "sku").send_keys(sku)
    new.find_element(By.NAME, "name").send_keys("Console mug")
    new.find_element(By.NAME, "price").send_keys("1299")
    new.find_element(By.NAME, "stock").send_keys("5")
    new.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    text_in(browser, "#flash", f"Product {sku} saved")
    row = element(browser, f'tr[data-sku="{sku}"]')
    # And change its stock, then deactivate it
    stock = row.find_element(By.NAME, "stock")
    stock.clear()
    stock.send_keys("9")
    row.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    text_in(browser, "#flash", f"Product {sku} saved")
    shot(browser, "ops-catalog.png")
    element(browser, f'tr[data-sku="{sku}"] button.toggle').click()
    text_in(browser, "#flash", f"{sku} deactivated")
    # Then the catalog holds it, inactive, off sale
    product = requests.get(f"{local_stack.url}/products/{sku}", timeout=10).json()
    assert (product["name"], product["price"], product["active"]) == ("Console mug", 1299, False)
    on_sale = requests.get(f"{local_stack.url}/products", timeout=10).json()["items"]
    assert sku not in [p["sku"] for p in on_sale]
    token = issue_token("ops-check", ["ops"])
    changed = requests.patch(
        f"{local_stack.url}/products/{sku}", json={}, headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    assert changed.json()["stock"] == 9


def test_an_analyst_opens_the_report_and_sees_only_their_views(local_stack: RunningStack, browser: WebDriver) -> None:
    # Given some orders today
    paid_physical_order(local_stack.url)
    # When an analyst signs in and opens the report
    sign_in(browser, local_stack.url, f"analyst-{uuid.uuid4().hex[:6]}", "analyst")
    open_view(browser, local_stack.url, "report")
    # Then the charts are drawn: orders by status and stage durations
    element(browser, "#chart-status svg rect")
    element(browser, "#chart-durations svg")
    text_in(browser, "#report-kpis", "payment failure rate")
    shot(browser, "analyst-report.png")
    # And only what the role may do is offered
    views = [a.get_attribute("data-view") for a in browser.find_elements(By.CSS_SELECTOR, "#nav a")]
    assert views == ["report", "order"]
    # When they sign out / Then the token is gone and the sign-in shows
    browser.find_element(By.ID, "signout").click()
    element(browser, "#dev-signin")
    assert browser.execute_script("return sessionStorage.length") == 0
    assert browser.find_elements(By.CSS_SELECTOR, "#nav a") == []


def test_anyone_finds_an_order_by_id_and_first_render_is_fast(local_stack: RunningStack, browser: WebDriver) -> None:
    # Given an order
    demo = paid_physical_order(local_stack.url)
    order_id = demo.state["order"]["order_id"]
    # When support looks it up by id
    sign_in(browser, local_stack.url, f"agent-{uuid.uuid4().hex[:6]}", "support")
    open_view(browser, local_stack.url, "order")
    element(browser, "#order-id").send_keys(order_id)
    browser.find_element(By.CSS_SELECTOR, "#find-order button").click()
    # Then its lines, address and timeline show
    text_in(browser, "#order-card", order_id)
    text_in(browser, "#order-card", "Ada Lovelace")
    text_in(browser, "main", "PAYMENT_SUCCEEDED")
    shot(browser, "find-order.png")
    # And a fresh load of the console renders its first view quickly (ms from navigation start): a view without
    # an API call, and the ticket queue (one API call)
    timings = {}
    for route in ("order", "tickets"):
        browser.get("about:blank")
        browser.get(f"{local_stack.url}/console/#/{route}")
        wait(browser, lambda b: b.execute_script("return document.documentElement.dataset.rendered"))
        timings[route] = int(browser.execute_script("return document.documentElement.dataset.rendered"))
    print(f"\nconsole first render (ms from navigation start): {timings}")
    (SHOTS / "first-render-ms.txt").write_text("".join(f"#/{route} {ms}\n" for route, ms in timings.items()))
    assert max(timings.values()) < 5000
