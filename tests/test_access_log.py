"""A set-password link's token never reaches a request log (issue 16, item 4)."""
import logging
from datetime import timedelta
from types import SimpleNamespace

from gunicorn.config import Config

from webapp.access_log import AccessLogger

TOKEN = "z-2-k-uEnboEGUsoleB4aC_ouM9OL3uTlzXAOK2Dd7g"


def test_the_development_server_logs_no_token(app, caplog):
    with caplog.at_level(logging.INFO, logger="werkzeug"):
        logging.getLogger("werkzeug").info('%s - - [%s] "%s" %s %s', "127.0.0.1", "now",
                                           f"POST /auth/set-password/{TOKEN} HTTP/1.1", 303, "-")
    assert "/auth/set-password/[hidden]" in caplog.text and TOKEN not in caplog.text


def test_gunicorn_logs_no_token_in_the_path_nor_the_referer():
    environ = {"REQUEST_METHOD": "POST", "RAW_URI": f"/auth/set-password/{TOKEN}", "SERVER_PROTOCOL": "HTTP/1.1",
               "PATH_INFO": f"/auth/set-password/{TOKEN}", "QUERY_STRING": "",
               "HTTP_REFERER": f"https://portal.example.com/auth/set-password/{TOKEN}", "REMOTE_ADDR": "10.0.0.1"}
    response = SimpleNamespace(status="303 SEE OTHER", sent=0, headers=[])
    request = SimpleNamespace(headers=[("REFERER", environ["HTTP_REFERER"])])
    atoms = AccessLogger(Config()).atoms(response, request, environ, timedelta(milliseconds=5))
    assert TOKEN not in " ".join(str(value) for value in atoms.values())
    assert atoms["U"] == "/auth/set-password/[hidden]"
