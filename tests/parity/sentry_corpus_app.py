"""A small app written against sentry-sdk, run unchanged by tests/parity/test_sentry_corpus.py
and, after ``sed s/sentry_sdk/releasetag/``, with releasetag. Every event carries a ``case``
tag so that the test can pair them. DSN from the SENTRY_DSN environment variable."""

import logging
import os
import sys

import sentry_sdk
from sentry_sdk import Hub


def before_send(event, hint):
    if "exc_info" in hint:
        event.setdefault("tags", {})["hint_exc"] = hint["exc_info"][0].__name__
    return event


def before_breadcrumb(crumb, hint):
    return None if crumb.get("category") == "drop" else crumb


class OrderError(Exception):
    pass


def fail(order_id):
    raise OrderError(f"order {order_id} failed")


def main():
    with sentry_sdk.init(
        dsn=os.environ["SENTRY_DSN"],
        release="corpus@1.0",
        environment="parity",
        server_name="corpus-host",
        before_send=before_send,
        before_breadcrumb=before_breadcrumb,
        max_breadcrumbs=5,
        attach_stacktrace=False,
        send_default_pii=False,
        default_integrations=True,
        auto_session_tracking=False,
        traces_sample_rate=0.0,
    ):
        sentry_sdk.set_tag("is_initialized", str(sentry_sdk.is_initialized()))
        sentry_sdk.set_tag("options_release", sentry_sdk.get_client().options["release"])
        sentry_sdk.set_user({"id": "u1", "email": "outer@example.com"})

        with sentry_sdk.new_scope() as scope:
            scope.set_tag("case", "plain-message")
            sentry_sdk.capture_message("hello from the corpus")

        with sentry_sdk.push_scope() as scope:
            scope.set_tag("case", "push-scope")
            scope.set_extra("cart", {"items": 3})
            scope.level = "warning"
            sentry_sdk.capture_message("pushed")

        with sentry_sdk.new_scope() as scope:
            scope.set_tag("case", "user-replaced")
            scope.set_user({"id": "u2"})
            sentry_sdk.capture_message("new user")

        def configure(scope):
            scope.set_context("shop", {"region": "eu", "tier": 2})

        with sentry_sdk.new_scope() as scope:
            scope.set_tag("case", "configure-scope")
            sentry_sdk.configure_scope(configure)
            sentry_sdk.capture_message("configured", level="error")

        try:
            fail(7)
        except OrderError as exc:
            sentry_sdk.capture_exception(
                exc,
                tags={"case": "scope-kwargs", "order": "7"},
                extras={"attempt": 2},
                user={"id": "u3"},
                contexts={"payment": {"provider": "acme"}},
                level="warning",
                fingerprint=["orders", "{{ default }}"],
            )

        with sentry_sdk.new_scope() as scope:
            scope.set_tag("case", "breadcrumbs")
            sentry_sdk.add_breadcrumb(category="auth", message="login", level="info")
            sentry_sdk.add_breadcrumb(category="drop", message="never seen")
            sentry_sdk.add_breadcrumb(category="cart", message="add", data={"sku": "A1"})
            try:
                fail(8)
            except OrderError:
                sentry_sdk.capture_exception()

        with sentry_sdk.new_scope() as scope:
            scope.set_tag("case", "fingerprint-transaction")
            scope.fingerprint = ["custom-group"]
            scope.set_transaction_name("checkout")
            sentry_sdk.capture_message("grouped")

        with sentry_sdk.new_scope() as scope:
            scope.set_tag("case", "attachment")
            scope.add_attachment(bytes=b"line one\nline two\n", filename="notes.txt")
            sentry_sdk.capture_message("with a file")

        with sentry_sdk.new_scope() as scope:
            scope.set_tag("case", "hub")
            Hub.current.scope.set_extra("via", "hub")
            Hub.current.capture_message("from the hub")

        with sentry_sdk.new_scope() as scope:
            scope.set_tag("case", "scope-capture")
            scope.capture_message("scope method")

        with sentry_sdk.new_scope() as scope:
            scope.set_tag("case", "logging-extra")
            logging.getLogger("shop").error("payment %s declined", "p-9", extra={"order": 9})
        sentry_sdk.flush()


if __name__ == "__main__":
    sys.exit(main())
