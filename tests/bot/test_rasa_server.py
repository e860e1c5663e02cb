"""The Rasa entry point validates action replies as Rasa does, with a validator built once."""

from __future__ import annotations

import jsonschema
import pytest
from rasa.core.actions.action import RemoteAction

from bot.rasa_server import compile_action_reply_schema, rasa_argv


@pytest.fixture
def compiled():
    original = RemoteAction._validate_action_result
    compile_action_reply_schema()
    yield RemoteAction("action_x", None)
    RemoteAction._validate_action_result = original


def test_valid_replies_pass_and_the_schema_is_not_checked_again(compiled, monkeypatch):
    calls = []
    monkeypatch.setattr(jsonschema, "validate", lambda *a, **k: calls.append(a))
    reply = {
        "events": [{"event": "slot", "name": "language", "value": "vi"}],
        "responses": [{"text": "xin chào"}],
    }
    assert compiled._validate_action_result(reply) is True
    assert calls == []  # the meta-schema check per reply is what cost 23% of the CPU


def test_invalid_replies_fail_with_rasas_own_message(compiled):
    with pytest.raises(jsonschema.ValidationError, match="Failed to validate Action server"):
        compiled._validate_action_result({"events": [{"event": "no-such-event"}]})
    with pytest.raises(jsonschema.ValidationError):
        compiled._validate_action_result({"responses": "not a list"})


def test_compiling_twice_keeps_one_wrapper(compiled):
    first = RemoteAction._validate_action_result
    compile_action_reply_schema()
    assert RemoteAction._validate_action_result is first


@pytest.mark.parametrize("token", ["-leading-dash", "--looks-like-an-option", "plain_token"])
def test_the_token_reaches_rasa_whatever_it_begins_with(token):
    from rasa.__main__ import create_argument_parser

    argv = rasa_argv(token, ["--port", "5005"])
    parsed = create_argument_parser().parse_args(argv[1:])
    assert parsed.auth_token == token
    assert parsed.enable_api is True
    assert parsed.port == 5005
