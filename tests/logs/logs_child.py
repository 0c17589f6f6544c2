"""The same logs and metrics through sentry-sdk or releasetag: ``python logs_child.py SDK DSN``.

Run as a child process by test_logs_parity.py; both SDKs make the same calls in the same
file, so line numbers and paths match."""

import logging
import sys

which, dsn = sys.argv[1], sys.argv[2]
if which == "sentry":
    import sentry_sdk as sdk
    from sentry_sdk.integrations.logging import LoggingIntegration
    from sentry_sdk.integrations.loguru import LoguruIntegration
else:
    import releasetag as sdk
    from releasetag.integrations.logging import LoggingIntegration
    from releasetag.integrations.loguru import LoguruIntegration

from loguru import logger as loguru_logger  # noqa: E402

sdk.init(
    dsn=dsn,
    release="shop@2.0.1",
    environment="staging",
    server_name="web-1",
    enable_logs=True,
    default_integrations=False,
    integrations=[LoggingIntegration(event_level=None), LoguruIntegration(event_level=None)],
)
sdk.logger.info("order {order_id} paid by {user}", order_id=42, user="ann")
sdk.logger.warning("plain warning", attributes={"shop": "eu", "n": 3, "ratio": 0.5, "ok": True})
sdk.logger.error("broken {template", value=1)
sdk.logger.debug("lists", attributes={"ids": [1, 2, 3], "names": ["a", "b"], "mixed": [1, "a"]})
sdk.logger.fatal(
    "object {thing}", thing=object.__new__(type("Thing", (), {"__repr__": lambda s: "<T>"}))
)
sdk.set_attribute("tenant", "acme")
logging.getLogger("shop.orders").warning("stock %s low: %d left", "apples", 3, extra={"sku": "A1"})
logging.getLogger("shop.orders").error("dict %(a)s", {"a": "x"})
loguru_logger.bind(region="eu").info("loguru says {}", "hi")
sdk.metrics.count("orders.paid", 1, attributes={"shop": "eu"})
sdk.metrics.gauge("queue.depth", 7.5, unit="item")
sdk.metrics.distribution("checkout.ms", 123, unit="millisecond")
sdk.flush(10)
