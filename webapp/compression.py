"""Responses go compressed: pages and fragments with brotli or gzip (Flask-Compress), the
static files compressed once at the highest levels and kept in memory for every request.

Downloads and other streamed responses go as they are: a support file is often compressed
already, and compressing it on the fly would cost a core per download.
"""
import gzip
import os

import brotli
from flask import request
from flask_compress import Compress
from werkzeug.security import safe_join

ENCODINGS = ("br", "gzip")  # preferred first
STATIC_TYPES = ("text/css", "text/javascript", "application/javascript", "image/svg+xml", "text/plain")
_static = {}  # (path, mtime_ns, size, encoding) → bytes, shared by every app of the process


def _compressed(path, encoding):
    stat = os.stat(path)
    key = (path, stat.st_mtime_ns, stat.st_size, encoding)
    if key not in _static:
        with open(path, "rb") as file:
            data = file.read()
        _static[key] = brotli.compress(data, quality=11) if encoding == "br" else gzip.compress(data, 9, mtime=0)
    return _static[key]


def _accepted_encoding():
    accepted = request.accept_encodings
    return next((encoding for encoding in ENCODINGS if accepted[encoding]), None)


def init_app(app):
    app.config.setdefault("COMPRESS_ALGORITHM", list(ENCODINGS))
    app.config.setdefault("COMPRESS_STREAMS", False)
    Compress(app)

    @app.after_request
    def precompressed_static(response):
        if request.endpoint != "static" or response.status_code != 200 or response.mimetype not in STATIC_TYPES:
            return response
        response.vary.add("Accept-Encoding")
        encoding = _accepted_encoding()
        path = safe_join(app.static_folder, request.view_args.get("filename", ""))
        if encoding is None or path is None or not os.path.isfile(path):
            return response
        response.direct_passthrough = False
        response.set_data(_compressed(path, encoding))
        response.headers["Content-Encoding"] = encoding
        etag, weak = response.get_etag()
        if etag:
            response.set_etag(f"{etag}-{encoding}", weak=weak)
        return response
