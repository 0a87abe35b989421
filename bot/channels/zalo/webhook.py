"""The Zalo webhook: its path, and the secret Zalo sends with every request."""

from __future__ import annotations

import hashlib
import hmac

WEBHOOK_PATH = "/zalo/webhook"
SECRET_HEADER = "X-Bot-Api-Secret-Token"


def webhook_secret(token: str) -> str:
    """The secret Zalo sends in ``X-Bot-Api-Secret-Token`` (64 characters; 8–256 allowed),
    derived from the token so every worker agrees on it without extra configuration."""
    return hmac.new(token.encode(), b"coopbot zalo webhook", hashlib.sha256).hexdigest()


def webhook_url(public_url: str) -> str:
    """``https://bot.example.org`` → ``https://bot.example.org/zalo/webhook``."""
    url = public_url.rstrip("/")
    return url if url.endswith(WEBHOOK_PATH) else url + WEBHOOK_PATH
