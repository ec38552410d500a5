"""Escaping for Markdown: what users typed or a server said is drawn as it is."""

from __future__ import annotations

SPECIAL = "\\`*_{}[]()#+-.!<>|~$:"


def md(text: object) -> str:
    """``text`` escaped for a Markdown sentence: no links, images, icons or emphasis."""
    return "".join("\\" + ch if ch in SPECIAL else ch for ch in str(text))
