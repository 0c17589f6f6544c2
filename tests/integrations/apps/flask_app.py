"""A Flask app: the Flask integration is enabled by default (no explicit wrapping)."""

import os

from flask import Flask, request

import releasetag

releasetag.init(
    os.environ["APP_DSN"],
    release=os.environ["APP_RELEASE"],
    environment=os.environ["APP_ENVIRONMENT"],
)

app = Flask(__name__)


@app.route("/ok")
def ok():
    return "hello"


@app.route("/fail/<item>")
def fail(item):
    releasetag.set_tag("item", item)
    raise KeyError(f"no such item {item} ({request.args.get('q')})")
