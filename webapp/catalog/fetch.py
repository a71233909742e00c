"""Reading a document from a URL the admin gave, in the worker only: the operator's host
allow-list at every hop, at most CATALOG_MAX_KB, within CATALOG_FETCH_SECONDS. A failure is a
FetchFailed with a stored message for the admin (webapp/messages.py)."""
import time
from urllib.parse import urljoin

import requests
import urllib3
from flask import current_app

from ..jira.texts import N_, message
from ..jira.urls import host_allowed

MAX_REDIRECTS = 3
READ_BLOCK = 64 * 1024


class FetchFailed(Exception):
    def __init__(self, msgid, **params):
        super().__init__(msgid % params)
        self.stored = message(msgid, **params)
        self.status = params.get("status")  # the HTTP status a server answered, if that was it


def fetch(url, headers=None):
    """The body of a GET of `url` (following up to three redirects), within the caps."""
    config = current_app.config
    allowed, seconds = config["CATALOG_ALLOWED_HOSTS"], config["CATALOG_FETCH_SECONDS"]
    limit = config["CATALOG_MAX_KB"] * 1024
    started = time.monotonic()
    for _ in range(MAX_REDIRECTS + 1):
        if not host_allowed(url, allowed):
            raise FetchFailed(N_("The operator allows documents only from these hosts: %(hosts)s."),
                              hosts=", ".join(allowed))
        try:
            response = requests.get(url, headers=headers, stream=True, allow_redirects=False,
                                    timeout=(min(5, seconds), seconds))
        except requests.Timeout:
            raise _too_slow(seconds) from None
        except (requests.RequestException, ValueError) as exc:
            raise FetchFailed(N_("The document could not be reached (%(reason)s)."),
                              reason=type(exc).__name__) from None
        if response.is_redirect and response.headers.get("Location"):
            response.close()
            url = urljoin(url, response.headers["Location"])
            continue
        if response.status_code != 200:
            response.close()
            raise FetchFailed(N_("The server answered HTTP %(status)d instead of the document."),
                              status=response.status_code)
        return _read(response, started, limit, seconds)
    raise FetchFailed(N_("The address redirects more than %(count)d times."), count=MAX_REDIRECTS)


def _read(response, started, limit, seconds):
    """The body as it arrives (read1: a trickle can't hold us past the time cap)."""
    if (response.headers.get("Content-Length") or "").isdigit() and int(response.headers["Content-Length"]) > limit:
        response.close()
        raise _too_large(limit)
    body = bytearray()
    with response:
        while True:
            if time.monotonic() - started > seconds:
                raise _too_slow(seconds)
            try:
                block = response.raw.read1(READ_BLOCK, decode_content=True)
            except (requests.Timeout, urllib3.exceptions.ReadTimeoutError, TimeoutError):
                raise _too_slow(seconds) from None
            except (urllib3.exceptions.HTTPError, requests.RequestException, OSError, ValueError) as exc:
                raise FetchFailed(N_("The document broke off while it was read (%(reason)s)."),
                                  reason=type(exc).__name__) from None
            if not block:
                return bytes(body)
            body += block
            if len(body) > limit:
                raise _too_large(limit)


def _too_slow(seconds):
    return FetchFailed(N_("The server took longer than %(seconds)d seconds to send the document."),
                       seconds=seconds)


def _too_large(limit):
    return FetchFailed(N_("The document is larger than %(size)d KB, the most the operator allows."),
                       size=limit // 1024)
