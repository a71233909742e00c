"""Verify Jira admin webhooks: ``X-Hub-Signature: sha256=<hex HMAC-SHA256 of the raw body>``."""
import hashlib
import hmac


def verify_signature(secret, body, header):
    """True when ``header`` signs ``body`` (raw bytes, before JSON parsing) with ``secret``.

    A missing header or any algorithm other than sha256 is refused.
    """
    if not secret or not header:
        return False
    algorithm, _, received = header.partition("=")
    if algorithm.strip().lower() != "sha256" or not received:
        return False
    expected = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    # As bytes: a header may carry any character, and compare_digest refuses non-ASCII str.
    return hmac.compare_digest(received.strip().lower().encode("utf-8"), expected.encode("ascii"))
