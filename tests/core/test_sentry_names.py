"""releasetag has every public name of sentry-sdk (``sentry_sdk.__all__``) with the same
parameters, and accepts every option of sentry-sdk's ``ClientConstructor``."""

from __future__ import annotations

import importlib
import inspect

import pytest

import releasetag
from releasetag.options import Options
from releasetag.options_compat import NOT_HERE

sentry_sdk = pytest.importorskip("sentry_sdk")
from sentry_sdk.consts import ClientConstructor  # noqa: E402

# every name is ours now (issues 25, 26, 27 landed together)
OWNED_ELSEWHERE: set = set()


def _peer(name):
    """sentry-sdk's public name: an attribute, or a submodule (logger) loaded on first use."""
    try:
        return getattr(sentry_sdk, name)
    except AttributeError:
        return importlib.import_module(f"sentry_sdk.{name}")


FUNCTIONS = sorted(
    name
    for name in sentry_sdk.__all__
    if name not in OWNED_ELSEWHERE and inspect.isfunction(_peer(name))
)


def _params(fn):
    return [(p.name, p.kind) for p in inspect.signature(fn).parameters.values()]


def test_every_public_name_exists():
    missing = [
        n for n in sentry_sdk.__all__ if n not in OWNED_ELSEWHERE and not hasattr(releasetag, n)
    ]
    assert missing == []
    assert set(sentry_sdk.__all__) - OWNED_ELSEWHERE <= set(releasetag.__all__)


@pytest.mark.parametrize("name", FUNCTIONS)
def test_functions_take_sentry_sdks_parameters(name):
    ours, theirs = getattr(releasetag, name), getattr(sentry_sdk, name)
    if name == "init":  # init(dsn, **options): the options are checked below
        return
    assert _params(ours) == _params(theirs)


def test_scope_has_sentry_sdks_methods_used_by_apps():
    for method in ("capture_exception", "capture_message", "capture_event", "add_attachment",
                   "set_transaction_name", "clear", "set_tag", "set_tags", "remove_tag",
                   "set_extra", "remove_extra", "set_context", "remove_context", "set_user",
                   "set_level", "add_event_processor", "clear_breadcrumbs"):  # fmt: skip
        assert _params(getattr(releasetag.Scope, method)) == _params(
            getattr(sentry_sdk.Scope, method)
        ), method


def test_every_client_constructor_option_is_accepted():
    sentry_options = set(inspect.signature(ClientConstructor.__init__).parameters) - {"self"}
    ours = set(Options.__annotations__) | set(NOT_HERE)
    assert sorted(sentry_options - ours) == []
    assert not set(Options.__annotations__) & set(NOT_HERE)  # implemented: out of the table


def test_init_takes_every_option_at_sentry_sdks_default_silently(capsys):
    defaults = {
        name: param.default
        for name, param in inspect.signature(ClientConstructor.__init__).parameters.items()
        if name not in ("self", "dsn", "transport")
    }
    client = releasetag.init(**defaults)
    try:
        assert client.options["trace_propagation_targets"] == [".*"]
        assert client.options["max_request_body_size"] == "medium"  # NOT_HERE: sentry's default
        assert set(defaults) <= set(client.options.keys())
    finally:
        releasetag.close()
    assert capsys.readouterr().err == ""  # nothing to say: every value is sentry-sdk's default
