"""Item 3: a page elsewhere cannot write with the ``middle_auth_token`` cookie. When the cookie
is the credential, a change needs an ``Origin`` that is the server's own (or listed in
ANNO_ALLOWED_ORIGINS) and a JSON body; the Authorization header needs neither."""

from __future__ import annotations

import json

import pytest
import requests

from anno_core.wire import endpoints as ep
from tests.conftest import synapse
from tests.hostile.conftest import check_refusal

EVIL = "http://evil.example"


@pytest.fixture
def table(server, volume) -> str:
    server.connect(aligned_volume=volume).create_table(
        "syn", "synapse", "cookies [pytest]", [4, 4, 40]
    )
    return "syn"


def _count(server, volume, table) -> int:
    return server.connect(aligned_volume=volume).get_annotation_count(table)


def test_a_text_plain_post_from_another_site_with_the_cookie_writes_nothing(server, volume, table):
    cookies = {"middle_auth_token": server.tokens["admin"]}
    url = ep.url(server.url, ep.ANNOTATIONS, aligned_volume=volume, table_name=table)
    body = json.dumps({"annotations": [synapse()]})
    for headers in (
        {"Origin": EVIL, "Content-Type": "text/plain"},
        {"Origin": EVIL, "Content-Type": "application/json"},
        {"Content-Type": "text/plain"},  # no Origin at all
        {"Origin": "null", "Content-Type": "application/json"},
        {"Origin": server.url, "Content-Type": "text/plain"},  # own page, but a form's type
        {"Origin": server.url, "Content-Type": "application/x-www-form-urlencoded"},
    ):
        r = requests.post(url, data=body, headers=headers, cookies=cookies)
        got = check_refusal(r, 403)
        assert "cookie" in got["message"], got
    tables = ep.url(server.url, ep.TABLES, aligned_volume=volume)
    create = {"table_name": "evil", "schema_type": "synapse", "metadata": {"description": "x"}}
    r = requests.post(
        tables,
        data=json.dumps(create),
        headers={"Origin": EVIL, "Content-Type": "text/plain"},
        cookies=cookies,
    )
    check_refusal(r, 403)
    r = requests.delete(
        ep.url(server.url, ep.TABLE, aligned_volume=volume, table_name=table),
        headers={"Origin": EVIL},
        cookies=cookies,
    )
    check_refusal(r, 403)
    assert _count(server, volume, table) == 0
    assert server.connect(aligned_volume=volume).get_tables() == [table]


def test_the_servers_own_pages_and_the_bearer_header_still_write(server, volume, table):
    url = ep.url(server.url, ep.ANNOTATIONS, aligned_volume=volume, table_name=table)
    cookies = {"middle_auth_token": server.tokens["admin"]}
    r = requests.post(
        url, json={"annotations": [synapse()]}, headers={"Origin": server.url}, cookies=cookies
    )
    assert r.status_code == 200, r.text
    bearer = {"Authorization": f"Bearer {server.tokens['admin']}", "Origin": EVIL}
    r = requests.post(url, json={"annotations": [synapse(1)]}, headers=bearer)
    assert r.status_code == 200, r.text  # a page elsewhere cannot set this header
    r = requests.get(  # reads with the cookie are fine (a page elsewhere cannot read them)
        ep.url(server.url, ep.COUNT, aligned_volume=volume, table_name=table), cookies=cookies
    )
    assert r.status_code == 200 and r.json() == 2


def test_an_allowed_origin_may_write_with_the_cookie(own_server):
    srv = own_server(ANNO_ALLOWED_ORIGINS="https://lab.example, http://tools.lab.example:8080")
    client = srv.connect(aligned_volume="v")
    client.create_table("syn", "synapse", "cookies [pytest]", [4, 4, 40])
    url = ep.url(srv.url, ep.ANNOTATIONS, aligned_volume="v", table_name="syn")
    cookies = {"middle_auth_token": srv.tokens["olivia"]}
    for origin, status in (
        ("https://lab.example", 403),  # the table is PRIVATE to admin: the engine refuses
        ("http://tools.lab.example:8080", 403),
        (EVIL, 403),
    ):
        r = requests.post(
            url, json={"annotations": [synapse()]}, headers={"Origin": origin}, cookies=cookies
        )
        body = check_refusal(r, status)
        assert ("cookie" in body["message"]) == (origin == EVIL), body
    cookies = {"middle_auth_token": srv.tokens["admin"]}
    r = requests.post(
        url,
        json={"annotations": [synapse()]},
        headers={"Origin": "https://lab.example"},
        cookies=cookies,
    )
    assert r.status_code == 200, r.text


def test_opening_a_new_datastack_with_only_the_cookie_needs_the_servers_origin(server):
    url = ep.url(server.url, ep.INFO_DATASTACK, datastack="cookieland")
    cookies = {"middle_auth_token": server.tokens["admin"]}
    check_refusal(requests.get(url, cookies=cookies, headers={"Origin": EVIL}), 403)
    check_refusal(requests.get(url, cookies=cookies), 403)  # an <img> sends no Origin
    assert "cookieland" not in server.connect().get_aligned_volumes()
    r = requests.get(url, cookies=cookies, headers={"Origin": server.url})
    assert r.status_code == 200 and r.json()["aligned_volume"]["name"] == "cookieland"
    assert requests.get(url, cookies=cookies).status_code == 200  # it exists now: a read
