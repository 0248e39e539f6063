"""parlour: a small self-hosted group-chat server (JSON + Server-Sent Events)."""

__version__ = "0.1.0"
