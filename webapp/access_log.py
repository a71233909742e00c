"""Request logs without secrets: the token of a set-password link (in its path, or in the
Referer of the next request) never reaches a log line, neither gunicorn's access log
(`--logger-class webapp.access_log.AccessLogger`) nor the development server's."""
import logging
import re

from gunicorn.glogging import Logger

_TOKEN_IN_PATH = re.compile(r"(/auth/set-password/)[^\s/?#\"']+")


def hide_tokens(text):
    return _TOKEN_IN_PATH.sub(r"\1[hidden]", text)


class HideTokens(logging.Filter):
    """For the development server's request lines (the "werkzeug" logger)."""

    def filter(self, record):
        if isinstance(record.msg, str):
            record.msg = hide_tokens(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(hide_tokens(arg) if isinstance(arg, str) else arg for arg in record.args)
        return True


HIDE_TOKENS = HideTokens()  # one instance: adding it again to a logger is a no-op


class AccessLogger(Logger):
    """gunicorn's logger, each access-log field with set-password tokens hidden."""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        return {key: hide_tokens(value) if isinstance(value, str) else value for key, value in atoms.items()}
