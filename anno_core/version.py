"""The package version, in a module of its own so the server can name it without importing
`anno_core/__init__` (whose `connect` reaches both backends)."""

__version__ = "0.1.0"
