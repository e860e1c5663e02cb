import gzip
import json
import subprocess
import sys

import pytest

from bot.cli import main
from infra.settings import get_settings


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("MOTCUA_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("MOTCUA_EMBEDDING_MODEL", "hashing")
    monkeypatch.delenv("MOTCUA_DATABASE_URL", raising=False)
    monkeypatch.delenv("MOTCUA_INDEX_DIR", raising=False)
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def _portal_record(code, name, table):
    return {
        "ma_thu_tuc": code,
        "ten_thu_tuc": name,
        "cap_thuc_hien": "Cấp xã",
        "linh_vuc": "Hộ tịch",
        "doi_tuong_thuc_hien": "Công dân Việt Nam",
        "cach_thuc_thuc_hien": table,
        "thanh_phan_ho_so": "Tên giấy tờMẫu đơn, tờ khaiSố lượngTờ khai1 bản chính",
        "detail_url": "https://dichvucong.gov.vn/x",
    }


def test_search_json_on_the_bundled_sample(env, capsys):
    assert main(["search", "làm", "hộ", "chiếu", "cần", "gì", "--json", "--k", "3"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["hits"][0]["code"] == "1.001456"
    assert len(out["hits"]) == 3
    assert set(out) >= {"query", "language", "confident", "confidence", "hits"}


def test_search_text_output_and_empty_question(env, capsys):
    assert main(["search", "fee", "for", "a", "criminal", "record", "certificate"]) == 0
    assert "3.000333" in capsys.readouterr().out
    assert main(["search", "   "]) == 1
    assert "give a question" in capsys.readouterr().err


def test_catalogue_show_json_has_the_normalised_fields(env, capsys):
    assert main(["catalogue", "show", "1.001193", "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["code"] == "1.001193" and record["name"]
    for channel in record["channels"]:
        assert channel["channel"] in ("in_person", "online", "post")
        assert set(channel["processing_time"]) == {"value", "unit", "text", "text_en"}
        assert set(channel["fee"]) == {"amounts_vnd", "amounts_usd", "free", "text", "text_en"}
    assert record["documents"][0]["name"] and record["documents"][0]["name_en"]
    assert record["source"] == "builtin"


def test_catalogue_stats_json_counts_the_builtin_catalogue(env, capsys):
    assert main(["catalogue", "stats", "--json"]) == 0
    stats = json.loads(capsys.readouterr().out)
    for key in ("procedures", "curated", "english_names", "english_documents",
                "fee_amount_known_share", "fingerprint"):  # fmt: skip
        assert key in stats
    assert stats["procedures"] >= 400 and stats["english_names"] >= 400
    assert stats["curated"] == stats["procedures"]


def test_catalogue_show_unknown_code(env, capsys):
    assert main(["catalogue", "show", "9.999999"]) == 1
    assert "no procedure with code" in capsys.readouterr().err


def test_import_a_portal_file_keeps_going_past_bad_records(env, capsys):
    path = env / "export.jsonl.gz"
    lines = [
        json.dumps(
            _portal_record(
                "1.900001",
                "Đăng ký nuôi chim cảnh",
                "Hình thức nộpThời gianPhí, lệ phíMô tảTrực tiếp5 Ngày làm việc"
                "50,000 Việt Nam Đồng(Phí : 50.000 Đồng)Nộp tại UBND xã",
            ),
            ensure_ascii=False,
        ),
        "{not json",
        json.dumps({"ten_thu_tuc": "no code"}, ensure_ascii=False),
    ]
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        fh.write("\n".join(lines) + "\n")
    assert main(["catalogue", "import", str(path)]) == 0
    captured = capsys.readouterr()
    summary = json.loads(captured.out.splitlines()[0])
    assert summary["added"] == 1 and summary["errors"] == 2
    assert "line 2" in captured.err
    assert main(["catalogue", "show", "1.900001", "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["channels"][0]["fee"]["amounts_vnd"] == [50000]
    assert record["channels"][0]["processing_time"]["unit"] == "working_days"
    assert main(["search", "nuôi chim cảnh", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["hits"][0]["code"] == "1.900001"


def test_import_missing_file(env, capsys):
    assert main(["catalogue", "import", str(env / "nope.jsonl")]) == 1
    assert "no such file" in capsys.readouterr().err


def test_eval_retrieval_prints_one_json_object(env, tmp_path, capsys):
    questions = tmp_path / "q.jsonl"
    rows = [
        {"q": "đăng ký khai sinh", "gold": ["1.001193"], "lang": "vi"},
        {"q": "lam ho chieu", "gold": ["1.001456"], "lang": "vi-nodiac"},
        {"q": "criminal record certificate", "gold": ["3.000333"], "lang": "en"},
        {"q": "đăng ký khai sinh", "gold": ["0.000000"], "lang": "vi"},
    ]
    questions.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), "utf-8")
    assert main(["eval", "retrieval", "--questions", str(questions)]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["n"] == 4
    assert result["recall@1"] == 0.75
    assert set(result["by_lang"]) == {"vi", "vi-nodiac", "en"}
    assert result["by_lang"]["vi"]["recall@1"] == 0.5


def test_dead_database_is_one_line_not_a_traceback(env, monkeypatch, capsys):
    monkeypatch.setenv("MOTCUA_DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")
    get_settings.cache_clear()
    assert main(["catalogue", "stats"]) == 1
    err = capsys.readouterr().err
    assert "cannot open the catalogue database" in err and "Traceback" not in err


def test_console_script_help_runs(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "--help"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0
    for command in ("run", "search", "catalogue", "index", "eval"):
        assert command in result.stdout


def test_conversations_purge_prints_counts(env, capsys):
    from desk.conversations import ConversationLog

    log = ConversationLog(get_settings().database_url)
    log.ingest([{"sender_id": "s", "event": "user", "timestamp": 1_000_000_000.0, "text": "x"}])
    from staff.review import ReviewStore

    turn = log.turns()[0]
    ReviewStore(get_settings().database_url).resolve(turn.id, "dismissed", actor="lan")
    assert main(["conversations", "purge", "--days", "30"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["turns"] == 1 and out["reviews"] == 1
    assert ReviewStore(get_settings().database_url).resolution(turn.id) is None
    assert main(["conversations", "purge", "--days", "0"]) == 1
    assert "at least 1" in capsys.readouterr().err
