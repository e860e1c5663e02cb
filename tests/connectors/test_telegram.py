import asyncio
import itertools
import json
import random

import aiohttp
import pytest
from rasa.shared.exceptions import RasaException
from sanic import Blueprint, Sanic

from connectors.guards import MAX_MESSAGE_CHARS, channel_text
from connectors.rest import RestInput
from connectors.telegram import (
    MAX_CALLBACK_BYTES,
    MAX_TEXT_CHARS,
    SECRET_HEADER,
    PayloadKeys,
    TelegramInput,
    TelegramOutput,
    credentials_from_env,
    ensure_webhook,
    make_bot,
    poll_once,
    run_polling,
    split_text,
    telegram_text,
)
from tests.auxil.fake_telegram import FakeTelegram
from tests.connectors.conftest import free_port, serve

SECRET = "s3cret-Token_for_tests"
CHAT = 987654321
_update_ids = itertools.count(500_000_000)


def user(language="vi"):
    return {
        "id": CHAT,
        "is_bot": False,
        "first_name": "Lan",
        "last_name": "Nguyễn",
        "language_code": language,
    }


def message_update(text=None, language="vi", update_id=None, **content):
    message = {
        "message_id": 42,
        "from": user(language),
        "chat": {"id": CHAT, "first_name": "Lan", "last_name": "Nguyễn", "type": "private"},
        "date": 1762150000,
        **content,
    }
    if text is not None:
        message["text"] = text
        if text.startswith("/"):
            length = len(text.split(" ")[0])
            message["entities"] = [{"offset": 0, "length": length, "type": "bot_command"}]
    return {"update_id": update_id or next(_update_ids), "message": message}


def callback_update(data, language="vi"):
    return {
        "update_id": next(_update_ids),
        "callback_query": {
            "id": "4382bfdwdsb323b2d9",
            "from": user(language),
            "message": {
                "message_id": 43,
                "from": {"id": 123456, "is_bot": True, "first_name": "Một cửa"},
                "chat": {"id": CHAT, "first_name": "Lan", "type": "private"},
                "date": 1762150001,
                "text": "Anh/chị muốn hỏi thủ tục nào?",
            },
            "chat_instance": "-7452189034",
            "data": data,
        },
    }


def echo(received, reply=None):
    async def on_new_message(message):
        received.append(message)
        if reply is not None:
            await reply(message)
        else:
            await message.output_channel.send_text_message(
                message.sender_id, f"echo: {message.text}"
            )

    return on_new_message


async def post(http, base, update, secret=SECRET):
    headers = {SECRET_HEADER: secret} if secret is not None else {}
    body = update if isinstance(update, bytes) else json.dumps(update).encode()
    headers["Content-Type"] = "application/json"
    async with http.post(f"{base}/webhook", data=body, headers=headers) as resp:
        return resp.status


@pytest.fixture
async def tg():
    async with FakeTelegram() as fake:
        yield fake


def channel_for(tg, **kwargs):
    return TelegramInput(tg.token, SECRET, None, tg.api_base_url, max_retry_wait=5.0, **kwargs)


async def exchange(tg, updates, on_new_message, secret=SECRET):
    """Posts updates to a real Sanic app, waits for their handling; returns the statuses."""
    channel = channel_for(tg)
    statuses = []
    async with serve(channel, on_new_message) as (base, http):
        for update in updates:
            statuses.append(await post(http, base, update, secret))
        await channel.drain()
    await channel.close()
    return statuses


# ---------------------------------------------------------------- settings


def test_credentials_from_env():
    assert credentials_from_env({}) is None
    assert credentials_from_env({"MOTCUA_TELEGRAM_TOKEN": "  "}) is None
    env = {
        "MOTCUA_TELEGRAM_TOKEN": "1:abc",
        "MOTCUA_TELEGRAM_SECRET": "xyz",
        "MOTCUA_TELEGRAM_WEBHOOK_URL": "https://bot.example.vn/webhooks/telegram/webhook",
        "MOTCUA_TELEGRAM_API_URL": "http://127.0.0.1:8081/bot",
    }
    assert credentials_from_env(env) == {
        "token": "1:abc",
        "secret_token": "xyz",
        "webhook_url": "https://bot.example.vn/webhooks/telegram/webhook",
        "api_base_url": "http://127.0.0.1:8081/bot",
    }
    channel = TelegramInput.from_credentials(credentials_from_env(env))
    assert channel.api_base_url == "http://127.0.0.1:8081/bot"
    assert channel.webhook_url.endswith("/webhooks/telegram/webhook")


@pytest.mark.parametrize(
    ("credentials", "named"),
    [
        (None, "credentials"),
        ({"secret_token": "x"}, "token"),
        ({"token": "1:abc"}, "secret_token"),
        ({"token": "1:abc", "secret_token": ""}, "secret_token"),
        ({"token": "1:abc", "secret_token": "has space"}, "secret_token"),
        ({"token": "${MOTCUA_TELEGRAM_TOKEN}", "secret_token": "x"}, "token"),
    ],
)
def test_from_credentials_fails_loudly(credentials, named):
    with pytest.raises(RasaException, match=named):
        TelegramInput.from_credentials(credentials)


def test_from_credentials_defaults_to_the_real_api():
    channel = TelegramInput.from_credentials({"token": "1:abc", "secret_token": "x"})
    assert channel.api_base_url == "https://api.telegram.org/bot"
    assert channel.webhook_url is None
    assert TelegramInput.name() == "telegram" and TelegramOutput.name() == "telegram"


# ---------------------------------------------------------------- pure helpers


def test_split_text_keeps_lines_whole():
    lines = [f"{n}. Giấy tờ số {n}: " + "bản chính " * (n % 40) for n in range(600)]
    text = "\n".join(lines)
    chunks = split_text(text)
    assert len(chunks) > 1
    assert all(len(c) <= MAX_TEXT_CHARS for c in chunks)
    assert "\n".join(chunks) == text
    assert all(line in lines for c in chunks for line in c.split("\n"))


def test_split_text_hard_splits_only_an_overlong_line():
    text = "đầu\n" + "x" * 9000 + "\ncuối"
    chunks = split_text(text)
    assert all(len(c) <= MAX_TEXT_CHARS for c in chunks)
    assert "".join(c.replace("\n", "") for c in chunks) == text.replace("\n", "")
    assert split_text("") == [] and split_text("\n \n") == []
    emoji = split_text("😀" * 3000)  # two UTF-16 units each, as Telegram counts
    assert all(len(c.encode("utf-16-le")) // 2 <= MAX_TEXT_CHARS for c in emoji)


def test_payload_keys_map_long_payloads_back_and_forget_old_ones():
    keys = PayloadKeys(size=2)
    short = '/choose_procedure{"procedure_code":"1.001193"}'
    assert keys.callback_data(short) == short
    long_ = '/choose_procedure{"procedure_code":"1.001193","note":"' + "x" * 80 + '"}'
    key = keys.callback_data(long_)
    assert len(key.encode()) <= MAX_CALLBACK_BYTES and keys.payload(key) == long_
    assert keys.callback_data(long_) == key
    keys.callback_data(long_ + "2")
    keys.callback_data(long_ + "3")
    assert keys.payload(key) is None  # evicted
    assert keys.payload(keys.callback_data("p:looks-like-a-key")) == "p:looks-like-a-key"


# ---------------------------------------------------------------- webhook path


async def test_health_and_a_text_message(tg):
    received = []
    channel = channel_for(tg)
    async with serve(channel, echo(received)) as (base, http):
        async with http.get(f"{base}/") as resp:
            assert resp.status == 200 and await resp.json() == {"status": "ok"}
        assert await post(http, base, message_update("làm hộ chiếu cần giấy tờ gì")) == 200
        await channel.drain()
    await channel.close()
    assert tg.sent_texts() == ["echo: làm hộ chiếu cần giấy tờ gì"]
    assert tg.called("sendMessage")[0]["chat_id"] == CHAT
    assert "parse_mode" not in tg.called("sendMessage")[0]
    message = received[0]
    assert message.sender_id == str(CHAT) and message.input_channel == "telegram"
    assert message.metadata["telegram"]["chat_id"] == CHAT
    assert message.metadata["telegram"]["language_code"] == "vi"
    assert [c.method for c in tg.calls] == ["getMe", "sendMessage"]


async def test_buttons_become_an_inline_keyboard_and_taps_come_back(tg):
    long_payload = '/choose_procedure{"procedure_code":"1.001193","origin":"' + "y" * 60 + '"}'
    buttons = [
        {
            "title": "1. Cấp hộ chiếu <phổ thông> & *nhanh*",
            "payload": "/choose_procedure" '{"procedure_code":"1.001193"}',
        },
        {"title": "2. Thủ tục dài", "payload": long_payload},
        {"title": "Cổng dịch vụ công", "url": "https://dichvucong.gov.vn"},
    ]
    received = []

    async def reply(message):
        if message.text.startswith("/choose_procedure"):
            await message.output_channel.send_text_message(message.sender_id, "ok")
        else:
            await message.output_channel.send_text_with_buttons(
                message.sender_id, "Anh/chị muốn hỏi thủ tục nào?", buttons
            )

    channel = channel_for(tg)
    async with serve(channel, echo(received, reply)) as (base, http):
        await post(http, base, message_update("hộ chiếu"))
        await channel.drain()
        keyboard = tg.called("sendMessage")[0]["reply_markup"]["inline_keyboard"]
        assert [len(row) for row in keyboard] == [1, 1, 1]
        assert keyboard[0][0]["text"] == buttons[0]["title"]
        assert keyboard[0][0]["callback_data"] == buttons[0]["payload"]
        assert len(keyboard[1][0]["callback_data"].encode()) <= MAX_CALLBACK_BYTES
        assert keyboard[2][0]["url"] == "https://dichvucong.gov.vn"
        for row in keyboard[:2]:
            await post(http, base, callback_update(row[0]["callback_data"]))
        await post(http, base, callback_update("p:999999"))  # a key this process never made
        await channel.drain()
    await channel.close()
    assert [m.text for m in received] == ["hộ chiếu", buttons[0]["payload"], long_payload]
    answered = tg.called("answerCallbackQuery")
    assert len(answered) == 3 and answered[0]["callback_query_id"] == "4382bfdwdsb323b2d9"
    assert tg.sent_texts()[1:] == ["ok", "ok", telegram_text("expired", "vi")]


async def test_long_text_is_split_at_line_boundaries(tg):
    lines = [f"Bước {n}: nộp hồ sơ tại Bộ phận một cửa, kèm bản sao giấy tờ." for n in range(150)]
    text = "\n".join(lines)

    async def reply(message):
        await message.output_channel.send_text_message(message.sender_id, text)

    await exchange(tg, [message_update("các bước")], echo([], reply))
    sent = tg.sent_texts()
    assert len(sent) == 3 and all(len(s) <= MAX_TEXT_CHARS for s in sent)
    assert "\n".join(sent) == text
    assert all(line in lines for s in sent for line in s.split("\n"))


async def test_special_characters_arrive_intact(tg):
    name = "Cấp <Giấy> phép & *xây_dựng* [nhà ở] `riêng lẻ` _(2025)_ > 50m²"

    async def reply(message):
        await message.output_channel.send_text_with_buttons(
            message.sender_id, name, [{"title": name, "payload": "/affirm"}]
        )
        await message.output_channel.send_custom_json(
            message.sender_id, {"text": name, "chat_id": 1, "reply_markup": None}
        )

    await exchange(tg, [message_update("giấy phép xây dựng")], echo([], reply))
    sends = tg.called("sendMessage")
    assert [s["text"] for s in sends] == [name, name]
    assert sends[0]["reply_markup"]["inline_keyboard"][0][0]["text"] == name
    assert all(s["chat_id"] == CHAT and "parse_mode" not in s for s in sends)


async def test_image_and_custom_photo(tg):
    async def reply(message):
        await message.output_channel.send_image_url(message.sender_id, "https://x.vn/a.png")
        await message.output_channel.send_custom_json(
            message.sender_id, {"photo": "https://x.vn/b.png", "caption": "Mẫu tờ khai"}
        )

    await exchange(tg, [message_update("mẫu tờ khai")], echo([], reply))
    photos = tg.called("sendPhoto")
    assert [p["photo"] for p in photos] == ["https://x.vn/a.png", "https://x.vn/b.png"]
    assert photos[1]["caption"] == "Mẫu tờ khai"
    assert tg.sent_texts() == []  # Rasa replied, so no busy text


async def test_duplicate_update_is_handled_once(tg):
    received = []
    update = message_update("lệ phí bao nhiêu")
    statuses = await exchange(tg, [update, update, update], echo(received))
    assert statuses == [200, 200, 200]
    assert len(received) == 1 and tg.sent_texts() == ["echo: lệ phí bao nhiêu"]


@pytest.mark.parametrize("secret", [None, "", "wrong", SECRET + "x", SECRET.upper()])
async def test_wrong_or_missing_secret_is_refused(tg, secret):
    received = []
    statuses = await exchange(tg, [message_update("xin chào")], echo(received), secret=secret)
    assert statuses == [403]
    assert received == [] and tg.calls == []


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"",
        b"\xff\xfe",
        b"[1, 2]",
        b'"text"',
        b'{"message": {"text": "hi"}}',
        b'{"update_id": "7"}',
        b'{"update_id": 7, "message": {"text": "no chat, no date"}}',
        b'{"update_id": 8, "callback_query": 5}',
    ],
)
async def test_malformed_updates_get_a_400(tg, body):
    received = []
    statuses = await exchange(tg, [body], echo(received))
    assert statuses == [400]
    assert received == [] and tg.calls == []


@pytest.mark.parametrize(
    ("content", "language"),
    [
        (
            {
                "sticker": {
                    "file_id": "CAAC",
                    "file_unique_id": "AgAD",
                    "width": 512,
                    "height": 512,
                    "is_animated": False,
                    "is_video": False,
                    "type": "regular",
                    "emoji": "👍",
                }
            },
            "vi",
        ),
        (
            {
                "photo": [{"file_id": "AgAC", "file_unique_id": "AQAD", "width": 90, "height": 67}],
                "caption": "giấy tờ này được không",
            },
            "en",
        ),
        (
            {
                "voice": {
                    "file_id": "AwAC",
                    "file_unique_id": "AgAD",
                    "duration": 3,
                    "mime_type": "audio/ogg",
                }
            },
            "vi",
        ),
        ({"location": {"latitude": 21.028, "longitude": 105.854}}, "en"),
    ],
)
async def test_non_text_gets_a_polite_text(tg, content, language):
    received = []
    await exchange(tg, [message_update(None, language, **content)], echo(received))
    assert received == []
    assert tg.sent_texts() == [telegram_text("only_text", language)]


async def test_service_messages_and_edits_are_ignored(tg):
    joined = message_update(None, new_chat_members=[user()])
    edited = message_update("sửa")
    edited["edited_message"] = edited.pop("message")
    edited["edited_message"]["edit_date"] = 1762150100
    received = []
    statuses = await exchange(tg, [joined, edited], echo(received))
    assert statuses == [200, 200] and received == [] and tg.sent_texts() == []


async def test_commands(tg):
    received = []
    updates = [
        message_update("/start"),
        message_update("/help", language="en"),
        message_update("/help@motcua_test_bot"),
        message_update("/lang en"),
        message_update("/lang@motcua_test_bot vi"),
        message_update("/lang fr", language="en"),
        message_update("/unknown"),
    ]
    await exchange(tg, updates, echo(received))
    assert [m.text for m in received] == [
        "/greet",
        '/change_language{"language": "en"}',
        '/change_language{"language": "vi"}',
    ]
    assert tg.sent_texts() == [
        "echo: /greet",
        telegram_text("help", "en"),
        telegram_text("help", "vi"),
        'echo: /change_language{"language": "en"}',
        'echo: /change_language{"language": "vi"}',
        telegram_text("lang_usage", "en"),
        telegram_text("help", "vi"),
    ]


async def test_empty_and_oversized_text(tg):
    received = []
    await exchange(
        tg,
        [message_update("   "), message_update("How do I renew a passport? " * 200)],
        echo(received),
    )
    assert len(received) == 1 and len(received[0].text) == MAX_MESSAGE_CHARS
    sent = tg.sent_texts()
    assert sent[0] == channel_text("empty", "vi")
    assert sent[1] == channel_text("too_long", "en", n=MAX_MESSAGE_CHARS)
    assert sent[2].startswith("echo: How do I renew")


@pytest.mark.parametrize("failure", ["silent", "raises", "cancelled"])
async def test_no_reply_from_rasa_becomes_the_busy_text(tg, failure):
    async def broken(message):
        if failure == "raises":
            raise RuntimeError("action server down")
        if failure == "cancelled":
            raise asyncio.CancelledError

    await exchange(tg, [message_update("what is the fee for a passport", "en")], broken)
    assert tg.sent_texts() == [channel_text("busy", "en")]


async def test_rate_limit_is_retried_once_and_errors_never_crash(tg):
    tg.fail("sendMessage", status=429, retry_after=1)
    received = []
    await exchange(tg, [message_update("hộ khẩu")], echo(received))
    sends = tg.called("sendMessage")
    assert len(sends) == 2 and sends[0] == sends[1]  # refused, then retried

    tg.calls.clear()
    tg.fail("sendMessage", status=500)
    tg.fail("answerCallbackQuery", status=400)
    await exchange(tg, [callback_update("/affirm"), message_update("lần nữa")], echo(received))
    assert tg.sent_texts() == ["echo: /affirm", "echo: lần nữa"]  # the 500 was dropped
    assert [m.text for m in received][-2:] == ["/affirm", "lần nữa"]


async def test_messages_of_one_chat_are_answered_in_order(tg):
    async def slow_echo(message):
        await asyncio.sleep(0.05 if message.text == "một" else 0)
        await message.output_channel.send_text_message(message.sender_id, message.text)

    await exchange(tg, [message_update(t) for t in ("một", "hai", "ba")], slow_echo)
    assert tg.sent_texts() == ["một", "hai", "ba"]


async def test_fuzzed_updates_never_crash_the_channel(tg):
    rng = random.Random(4128)
    alphabet = "aăâbcdđeêghiklmnoôơpqrstuưvxy <>&*_`[]{}\"'\\/\n😀0123456789"
    updates = []
    for _ in range(40):
        kind = rng.choice(["text", "command", "callback", "junk"])
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 300)))
        if kind == "text":
            updates.append(message_update(text))
        elif kind == "command":
            updates.append(message_update("/" + text.lstrip("/")))
        elif kind == "callback":
            updates.append(callback_update(text[:64]))
        else:
            updates.append({"update_id": next(_update_ids), "poll": {"junk": text}})
    statuses = await exchange(tg, updates, echo([]))
    assert set(statuses) <= {200, 400}
    assert all(1 <= len(t) <= MAX_TEXT_CHARS for t in tg.sent_texts())


# ---------------------------------------------------------------- webhook registration


async def test_ensure_webhook_registers_only_when_the_url_differs(tg):
    bot = make_bot(tg.token, tg.api_base_url)
    async with bot:
        url = "https://bot.example.vn/webhooks/telegram/webhook"
        assert await ensure_webhook(bot, url, SECRET) is True
        assert tg.webhook_url == url and tg.webhook_secret == SECRET
        assert tg.allowed_updates == ["message", "callback_query"]
        assert await ensure_webhook(bot, url, SECRET) is False
        assert len(tg.called("setWebhook")) == 1
        assert await ensure_webhook(bot, url + "2", SECRET) is True
        assert await ensure_webhook(bot, url + "2", SECRET, force=True) is True
        assert len(tg.called("setWebhook")) == 3


async def test_channel_startup_registers_once_and_survives_an_api_failure(tg):
    url = "https://bot.example.vn/webhooks/telegram/webhook"
    channel = TelegramInput(tg.token, SECRET, url, tg.api_base_url)
    tg.fail("getWebhookInfo", status=500)
    await channel.startup()  # logged, not raised
    assert tg.called("setWebhook") == []
    await channel.startup()
    await channel.startup()
    await channel.close()
    assert len(tg.called("setWebhook")) == 1
    second = TelegramInput(tg.token, SECRET, url, tg.api_base_url)
    await second.startup()  # a restart: Telegram already has the URL
    await second.close()
    assert len(tg.called("setWebhook")) == 1


async def test_blueprint_listeners_run_with_a_sanic_server(tg):
    url = "https://bot.example.vn/webhooks/telegram/webhook"
    channel = TelegramInput(tg.token, SECRET, url, tg.api_base_url)
    app = Sanic("test_telegram_listeners")
    app.blueprint(channel.blueprint(echo([])), url_prefix="/webhooks/telegram")
    assert isinstance(channel.blueprint(echo([])), Blueprint)
    server = await app.create_server(
        host="127.0.0.1", port=free_port(), return_asyncio_server=True, access_log=False
    )
    await server.startup()
    await server.after_start()
    assert tg.webhook_url == url
    await server.before_stop()
    server.close()
    await server.wait_closed()


# ---------------------------------------------------------------- polling


async def test_polling_relays_through_the_rest_channel(tg):
    received = []

    async def rasa(message):
        received.append(message)
        await message.output_channel.send_text_with_buttons(
            message.sender_id,
            f"echo: {message.text}",
            [{"title": "Có", "payload": "/affirm"}],
        )
        await message.output_channel.send_image_url(message.sender_id, "https://x.vn/c.png")

    first = message_update("làm căn cước")
    tg.queue_update(first)
    tg.queue_update(callback_update("/affirm"))
    tg.queue_update(
        message_update(
            None,
            sticker={
                "file_id": "CAAC",
                "file_unique_id": "AgAD",
                "width": 512,
                "height": 512,
                "is_animated": False,
                "is_video": False,
                "type": "regular",
            },
        )
    )
    async with serve(RestInput(), rasa) as (rest_base, http):
        bot = make_bot(tg.token, tg.api_base_url)
        async with bot:
            offset = await poll_once(bot, http, f"{rest_base}/webhook", None, poll_timeout=0)
            assert offset == first["update_id"] + 3
            again = await poll_once(bot, http, f"{rest_base}/webhook", offset, poll_timeout=0)
    assert again == offset
    assert tg.called("getUpdates")[1]["offset"] == offset
    assert [m.text for m in received] == ["làm căn cước", "/affirm"]
    assert received[0].sender_id == str(CHAT)
    assert received[0].metadata["telegram"]["chat_id"] == CHAT
    assert tg.sent_texts() == [
        "echo: làm căn cước",
        "echo: /affirm",
        telegram_text("only_text", "vi"),
    ]
    keyboard = tg.called("sendMessage")[0]["reply_markup"]["inline_keyboard"]
    assert keyboard == [[{"text": "Có", "callback_data": "/affirm"}]]
    assert len(tg.called("sendPhoto")) == 2
    assert len(tg.called("answerCallbackQuery")) == 1


async def test_polling_sends_busy_when_rest_is_down(tg):
    tg.queue_update(message_update("hello, what documents do I need", "en"))
    port = free_port()  # nothing listens there
    bot = make_bot(tg.token, tg.api_base_url)
    async with bot, aiohttp.ClientSession() as http:
        await poll_once(
            bot, http, f"http://127.0.0.1:{port}/webhooks/rest/webhook", None, poll_timeout=0
        )
    assert tg.sent_texts() == [channel_text("busy", "en")]


async def test_run_polling_deletes_the_webhook_first(tg):
    tg.webhook_url = "https://old.example.vn/hook"
    await run_polling(
        tg.token, tg.api_base_url, "http://127.0.0.1:9/x", poll_timeout=0, iterations=1
    )
    assert [c.method for c in tg.calls] == ["getMe", "deleteWebhook", "getUpdates"]
    assert tg.webhook_url == ""


def test_cli_poll_needs_a_token(monkeypatch, capsys):
    from bot.cli import main

    monkeypatch.delenv("MOTCUA_TELEGRAM_TOKEN", raising=False)
    assert main(["telegram", "poll", "--rest-url", "http://127.0.0.1:9/x"]) == 1
    assert "MOTCUA_TELEGRAM_TOKEN" in capsys.readouterr().err


# ---------------------------------------------------------------- issue 13: limits, clean input


async def test_deep_or_huge_updates_are_refused_with_a_reason(tg):
    received = []
    deep = b'{"update_id": 1, "message": ' + b'{"a": ' * 900 + b"1" + b"}" * 901
    huge = json.dumps({"update_id": 2, "message": {"text": "x" * 300_000}}).encode()
    channel = channel_for(tg)
    async with serve(channel, echo(received)) as (base, http):
        headers = {SECRET_HEADER: SECRET, "Content-Type": "application/json"}
        for body, status, reason in ((deep, 400, "deeper"), (huge, 413, "larger")):
            async with http.post(f"{base}/webhook", data=body, headers=headers) as resp:
                assert resp.status == status and reason in (await resp.json())["error"]
        await channel.drain()
    await channel.close()
    assert received == [] and tg.calls == []


async def test_a_forged_button_payload_is_cleaned_before_rasa(tg):
    received = []
    await exchange(
        tg, [callback_update("/affirm\ud800\x00"), message_update("hộ\udc00 chiếu")], echo(received)
    )
    assert [m.text for m in received] == ["/affirm", "hộ chiếu"]
