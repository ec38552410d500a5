"""Sign-in in real Chromium: two people side by side, the signed-out page, the throttle,
the refusal to serve without sign-in beyond loopback, and OpenID Connect end to end
against a real provider process (oidc-provider-mock) on 127.0.0.1.

Each test starts its own dashboard (the sign-in throttle is per process), so each runs alone.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from urllib.parse import urlparse

import pytest
from playwright.sync_api import Browser, Page, expect

import anno_core
from anno_core.engine.users import UserStore

from .conftest import LOCAL_HOSTS, free_port, start_app, stop_app
from .helpers import TIMEOUT, goto_page, wait_idle

SECRET, OPEN = "alice_secret_table", "bob_open_table"
PAGES = ("Tables", "Create table", "Metadata", "Upload", "Edit annotations", "Activity", "People")


def _lab(data_dir) -> dict[str, str]:
    """alice (lab) owns a PRIVATE table with rows, bob a PUBLIC one; their tokens."""
    store = UserStore(anno_core.connect(data_dir=data_dir).backend.engine)
    tokens = {n: store.add(n, g)[1] for n, g in (("alice", ["lab"]), ("bob", ["elsewhere"]))}
    alice = anno_core.connect(data_dir=data_dir, user="alice")
    alice.create_table(SECRET, "bound_tag", "hers [pytest]", [1, 1, 1], read_permission="PRIVATE")
    alice.post_annotation(SECRET, [{"tag": "x", "pt": {"position": [1, 2, 3]}}])
    anno_core.connect(data_dir=data_dir, user="bob").create_table(
        OPEN, "bound_tag", "his [pytest]", [1, 1, 1]
    )
    store.link_email("alice", "alice@lab.org")
    return tokens


@pytest.fixture
def served(tmp_path, request) -> Iterator:
    """A dashboard of this test's own: ``served(env, **start_app options)``."""
    started = []

    def _start(env: dict, **options):
        server = start_app(tmp_path / "data", tmp_path / "streamlit.log", env, **options)
        started.append(server)
        return server

    yield _start
    for server in started:
        stop_app(server)


def _tab(browser: Browser, url: str) -> tuple[Page, list[str]]:
    context = browser.new_context(viewport={"width": 1400, "height": 1100})
    tab = context.new_page()
    outside: list[str] = []

    def _outside(route) -> None:  # nothing may leave the machine: stopped, and noted
        url, frame = route.request.url, route.request.frame.url
        if urlparse(url).hostname in LOCAL_HOSTS or not url.startswith(("http", "ws")):
            route.continue_()
        else:
            outside.append(f"{url} (from {frame})")
            route.abort()

    context.route("**/*", _outside)
    tab.goto(url)
    wait_idle(tab)
    return tab, outside


def _sign_in(tab: Page, name: str, token: str) -> None:
    tab.get_by_label("User name", exact=True).fill(name)
    tab.get_by_label("API token", exact=True).fill(token)
    tab.get_by_role("button", name="Sign in").click()
    wait_idle(tab)


def _text(tab: Page) -> str:
    return tab.locator("body").inner_text()


def test_two_people_side_by_side_see_only_what_each_may_read(browser, served, tmp_path):
    tokens = _lab(tmp_path / "data")
    app = served({"ANNO_DASHBOARD_AUTH": "token"})
    alice, out_a = _tab(browser, app.url)
    bob, out_b = _tab(browser, app.url)
    _sign_in(alice, "alice", tokens["alice"])
    _sign_in(bob, "bob", tokens["bob"])
    expect(alice.get_by_text("Signed in as alice (lab)")).to_be_visible()
    expect(bob.get_by_text("Signed in as bob (elsewhere)")).to_be_visible()
    expect(alice.get_by_role("heading", name=SECRET)).to_be_visible()
    for title in PAGES:
        goto_page(bob, title)
        assert SECRET not in _text(bob), title
        assert tokens["bob"] not in _text(bob) and tokens["bob"] not in bob.url
    goto_page(bob, "Tables")
    for label in ("Open a table",):
        bob.get_by_label(label, exact=True).click()
        assert SECRET not in bob.get_by_role("listbox").inner_text()
        bob.keyboard.press("Escape")
    goto_page(alice, "Activity")
    expect(alice.get_by_text(f"alice added 1 row to {SECRET}")).to_be_visible()

    bob.get_by_role("button", name="Sign out").click()
    wait_idle(bob)
    expect(bob.get_by_label("API token", exact=True)).to_be_visible()
    assert OPEN not in _text(bob)
    assert not bob.context.cookies() or all(
        tokens["bob"] not in c["value"] for c in bob.context.cookies()
    )
    assert not out_a and not out_b, out_a + out_b


def test_signed_out_the_page_names_no_table_and_no_person(browser, served, tmp_path):
    _lab(tmp_path / "data")
    app = served({"ANNO_DASHBOARD_AUTH": "token"})
    tab, outside = _tab(browser, app.url)
    expect(tab.get_by_label("API token", exact=True)).to_be_visible()
    for path in ("", "/tables", "/people", "/activity"):
        tab.goto(app.url + path)
        wait_idle(tab)
        text = _text(tab)
        for word in (SECRET, OPEN, "alice", "bob", "admin", "local"):
            assert word not in text, (path, word)
    assert tab.get_by_test_id("stSidebarNav").count() == 0
    assert not outside


def test_five_wrong_tokens_slow_down_the_next_attempt(browser, served, tmp_path):
    tokens = _lab(tmp_path / "data")
    app = served({"ANNO_DASHBOARD_AUTH": "token"})
    tab, _ = _tab(browser, app.url)
    wrong = "That name and API token do not match"
    for _ in range(5):
        _sign_in(tab, "alice", "not-the-token")
        expect(tab.get_by_text(wrong)).to_be_visible()
    _sign_in(tab, "alice", tokens["alice"])  # even the right token waits now
    expect(tab.get_by_text("Too many failed sign-ins; wait")).to_be_visible()
    assert "Signed in as" not in _text(tab)
    log = (tmp_path / "streamlit.log").read_text()
    assert log.count("failed dashboard sign-in as 'alice'") >= 6
    assert tokens["alice"] not in log and "not-the-token" not in log


def test_without_sign_in_on_every_address_the_dashboard_serves_no_engine_data(
    browser, served, tmp_path
):
    _lab(tmp_path / "data")
    app = served({"ANNO_DASHBOARD_AUTH": "none"}, address="0.0.0.0")
    tab, _ = _tab(browser, app.url)
    expect(tab.get_by_role("heading", name="Sign-in needed")).to_be_visible()
    text = _text(tab)
    assert "ANNO_DASHBOARD_AUTH=token" in text
    for word in (SECRET, OPEN, "alice", "bob", "admin"):
        assert word not in text, word
    tab.goto(app.url + "/tables")
    wait_idle(tab)
    assert SECRET not in _text(tab) and OPEN not in _text(tab)


@pytest.fixture
def provider(tmp_path) -> Iterator[str]:
    """oidc-provider-mock on 127.0.0.1: alice@lab.org (linked) and carol@lab.org (not)."""
    port = free_port()
    claims = [
        {"sub": f"{n}@lab.org", "email": f"{n}@lab.org", "email_verified": True}
        for n in ("alice", "carol")
    ]
    args = [sys.executable, "-m", "oidc_provider_mock", "--host", "127.0.0.1", "--port", str(port)]
    for c in claims:
        args += ["--user-claims", json.dumps(c)]
    log = open(tmp_path / "oidc.log", "w")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"{url}/.well-known/openid-configuration", timeout=2):
                break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError((tmp_path / "oidc.log").read_text()) from None
            time.sleep(0.2)
    yield url
    proc.terminate()
    proc.wait(timeout=10)
    log.close()


def test_oidc_sign_in_end_to_end(browser, served, tmp_path, provider):
    _lab(tmp_path / "data")
    port = free_port()
    secrets = tmp_path / "secrets.toml"
    secrets.write_text(
        "[auth]\n"
        f'redirect_uri = "http://127.0.0.1:{port}/oauth2callback"\n'
        'cookie_secret = "a-test-cookie-secret-that-is-long-enough-0123456789"\n'
        'client_id = "anno-dashboard"\n'
        'client_secret = "anno-secret"\n'
        f'server_metadata_url = "{provider}/.well-known/openid-configuration"\n'
    )
    app = served(
        {"ANNO_DASHBOARD_AUTH": "oidc"},
        port=port,
        extra_args=("--secrets.files", str(secrets)),
    )
    for who, linked in (("alice", True), ("carol", False)):
        tab, outside = _tab(browser, app.url)
        assert SECRET not in _text(tab) and "alice" not in _text(tab)
        tab.get_by_role("button", name="Sign in with your lab account").click()
        tab.get_by_role("button", name=f"{who}@lab.org").click(timeout=TIMEOUT)
        tab.wait_for_url(f"{app.url}/**", timeout=TIMEOUT)
        wait_idle(tab)
        if linked:
            expect(tab.get_by_text("Signed in as alice (lab)")).to_be_visible(timeout=TIMEOUT)
            expect(tab.get_by_role("heading", name=SECRET)).to_be_visible(timeout=TIMEOUT)
            tab.get_by_role("button", name="Sign out").click()
            # the provider's end-session page (RP-initiated logout), then back to the app
            tab.get_by_role("button", name="End session").click(timeout=TIMEOUT)
            tab.wait_for_url(f"{app.url}/**", timeout=TIMEOUT)
            wait_idle(tab)
            expect(tab.get_by_role("button", name="Sign in with your lab account")).to_be_visible(
                timeout=TIMEOUT
            )
        else:
            expect(tab.get_by_text("ask an admin to link it")).to_be_visible(timeout=TIMEOUT)
            text = _text(tab)
            assert SECRET not in text and OPEN not in text and "alice" not in text
        tab.context.close()
        # only the provider's own page asks for a stylesheet from a CDN (stopped above)
        assert all(f"(from {provider}" in u for u in outside), outside
