"""Whether others can open what a shared link points at, said in one sentence."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlparse


def _loopback(host: str) -> bool:
    if host in ("localhost", "0.0.0.0", ""):  # noqa: S104 - a name compared, nothing bound
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host.endswith(".localhost")


def _private(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_private
    except ValueError:
        return "." not in host  # a bare machine name only resolves on its own network


def reach_note(source_url: str, viewer_url: str) -> str | None:
    """Why people elsewhere may not see the annotations of a link whose source is at
    ``source_url`` and whose viewer is at ``viewer_url``; None when nothing stops them."""
    src, view = urlparse(source_url), urlparse(viewer_url)
    host = src.hostname or ""
    where = f"{src.scheme}://{src.netloc}"
    if _loopback(host):
        return (
            f"The annotations are read from {where}, which only this computer can reach, and "
            "only while the dashboard (or this Python session) runs: people you send the link "
            "to will see the view and the volume's layers but no annotations. To share them, "
            "serve the table from a lab server (python -m anno_core serve) and open it there."
        )
    if view.scheme == "https" and src.scheme == "http":
        return (
            f"The annotations are read from {where} over plain http, which a viewer served "
            "over https (like the public one) is not allowed to read: put the server behind "
            "https to share it."
        )
    if _private(host):
        return (
            f"The annotations are read from {where}, which only computers on your own network "
            "can reach: people outside it will see no annotations."
        )
    return None
