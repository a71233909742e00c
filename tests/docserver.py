"""A real HTTP server that serves API description documents the test sets and changes:
JSON or YAML, huge, slow (a trickle), a redirect, or an error status. It counts the requests
it got, so a test can show who fetched (the worker) and who did not (the web process)."""
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Document:
    def __init__(self, body, content_type="application/json", status=200, trickle=0.0,
                 declare_length=True, location=None):
        self.body = body if isinstance(body, bytes) else body.encode()
        self.content_type, self.status, self.trickle = content_type, status, trickle
        self.declare_length, self.location = declare_length, location


class DocServer:
    def __init__(self):
        self.documents = {}  # path -> Document
        self.hits = []       # the paths asked for, in order
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                server.hits.append(self.path)
                document = server.documents.get(self.path)
                if document is None:
                    document = Document(b"not found", "text/plain", status=404)
                self.send_response(document.status)
                self.send_header("Content-Type", document.content_type)
                if document.location:
                    self.send_header("Location", document.location)
                if document.declare_length:
                    self.send_header("Content-Length", str(len(document.body)))
                else:  # read to the end: the only way to know the size is to count
                    self.send_header("Connection", "close")
                self.end_headers()
                try:
                    if document.trickle:
                        for byte in document.body:
                            self.wfile.write(bytes([byte]))
                            self.wfile.flush()
                            time.sleep(document.trickle)
                    else:
                        self.wfile.write(document.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the portal hung up: what a cap does
                if not document.declare_length:
                    self.close_connection = True

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def serve(self, path, body, **options):
        self.documents[path] = Document(body, **options)
        return self.url + path

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()
