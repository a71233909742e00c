"""The provider's public address, in front of the real provider: every request passes through
unchanged, except that a test may rewrite the ID token in the token endpoint's answer — a
token signed with another key, changed on the way, or expired — to see the portal refuse it."""
import http.client
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length"}
TOKEN_PATH = "/token"  # oidc-provider's token endpoint


class _PassThrough(BaseHTTPRequestHandler):
    def do_GET(self):
        self._forward()

    def do_POST(self):
        self._forward()

    def _forward(self):
        door = self.server
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        upstream = http.client.HTTPConnection("127.0.0.1", door.provider_port, timeout=10)
        try:
            headers = {name: value for name, value in self.headers.items() if name.lower() not in HOP_BY_HOP}
            upstream.request(self.command, self.path, body=body or None, headers=headers)
            answer = upstream.getresponse()
            content = answer.read()
            if self.command == "POST" and self.path.startswith(TOKEN_PATH) and door.rewrite_id_token:
                tokens = json.loads(content)
                tokens["id_token"] = door.rewrite_id_token(tokens["id_token"])
                content = json.dumps(tokens).encode()
            self.send_response(answer.status)
            for name, value in answer.getheaders():
                if name.lower() not in HOP_BY_HOP:
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            self.wfile.write(content)
        finally:
            upstream.close()

    def log_message(self, *args):
        pass


class FrontDoor(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, port, provider_port):
        super().__init__(("127.0.0.1", port), _PassThrough)
        self.provider_port = provider_port
        self.rewrite_id_token = None  # id_token -> the id_token the portal receives instead
        threading.Thread(target=self.serve_forever, daemon=True).start()

    def stop(self):
        self.shutdown()
        self.server_close()
