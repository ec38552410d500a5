"""A disabled user's token stops working on our REST server at once, and so does a reset
one; the audit route answers only what the caller may read."""

from __future__ import annotations

import requests

from anno_core.engine import db
from anno_core.engine.users import UserStore
from anno_core.wire import endpoints as ep
from tests.serverproc import ServerProcess


def test_disable_and_reset_take_effect_on_the_next_request(tmp_path):
    srv = ServerProcess(tmp_path / "srv")
    srv.add_users({"admin": ((), True), "alice": (("lab",), False)})
    srv.start()
    try:
        whoami = ep.url(srv.url, ep.WHOAMI)
        alice = {"Authorization": f"Bearer {srv.tokens['alice']}"}
        assert requests.get(whoami, headers=alice, timeout=30).json()["name"] == "alice"
        url = f"sqlite:///{(srv.data_dir / 'annotations.sqlite3').resolve()}"
        store = UserStore(db.make_engine(url))
        store.set_disabled("alice", True)
        refused = requests.get(whoami, headers=alice, timeout=30)
        assert refused.status_code == 401 and "disabled" in refused.json()["message"]
        store.set_disabled("alice", False)
        assert requests.get(whoami, headers=alice, timeout=30).status_code == 200
        new = store.reset_token("alice")
        assert requests.get(whoami, headers=alice, timeout=30).status_code == 401
        fresh = {"Authorization": f"Bearer {new}"}
        assert requests.get(whoami, headers=fresh, timeout=30).json()["name"] == "alice"

        admin = srv.connect("admin", aligned_volume="v")
        admin.create_table(
            "hidden", "bound_tag", "t [pytest]", [1, 1, 1], read_permission="PRIVATE"
        )
        activity = ep.url(srv.url, ep.ACTIVITY, aligned_volume="v")
        mine = requests.get(activity, headers=fresh, timeout=30)
        assert mine.status_code == 200 and mine.json() == {"entries": [], "next": None}
        bad = requests.get(activity, headers=fresh, params={"limit": "ten"}, timeout=30)
        assert bad.status_code == 400 and "whole number" in bad.json()["message"]
        db.dispose(url)
    finally:
        srv.stop()
