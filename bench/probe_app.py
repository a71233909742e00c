"""Bench only, never deployed: the product app plus two routes that do a part of what
POST /requests/new does, so bench/submit.py can say where a submit's time goes.

- POST /bench/parse  receive the multipart body and parse it (Werkzeug), nothing else
- POST /bench/store  the same, then check and store each file as the form does (sha256, write)

    gunicorn bench.probe_app:app      (bench/submit.py starts it)
"""
from flask import request

from webapp import create_app
from webapp.extensions import csrf
from webapp.support.files import store_upload

app = create_app()


@app.post("/bench/parse")
@csrf.exempt
def parse_only():
    files = request.files.getlist("attachments")
    return "", 204 if files and request.form else 400


@app.post("/bench/store")
@csrf.exempt
def parse_and_store():
    stored = [store_upload(upload) for upload in request.files.getlist("attachments")]
    return "", 204 if stored and all(error is None for _, error in stored) else 400
