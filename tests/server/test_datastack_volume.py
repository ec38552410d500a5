"""A client given only a datastack reports, and lists, that datastack's aligned volume."""

from __future__ import annotations

import anno_core


def test_datastack_only_client_names_its_volume(server, volume):
    client = anno_core.connect(
        backend="server", server_address=server.url, datastack=volume, token=server.tokens["admin"]
    )
    assert client.aligned_volume_name == volume
    client.create_table("t", "bound_tag", "d", [4, 4, 40])
    assert client.get_tables() == ["t"]
    assert volume in client.get_aligned_volumes()
    assert "local" not in client.get_aligned_volumes()
