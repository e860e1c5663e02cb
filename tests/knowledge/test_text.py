import unicodedata

from knowledge.text import fold, has_diacritics, normalize, strip_accents, tokens


def test_fold_removes_accents_d_and_punctuation():
    assert fold("Cấp lại Căn cước (bị mất)!") == "cap lai can cuoc bi mat"
    assert fold("Đăng ký hộ kinh doanh") == "dang ky ho kinh doanh"


def test_fold_handles_decomposed_unicode_like_nfc():
    composed = "Thủ tục đăng ký khai sinh"
    decomposed = unicodedata.normalize("NFD", composed)
    assert decomposed != composed
    assert fold(decomposed) == fold(composed)
    assert normalize(decomposed) == composed


def test_normalize_collapses_whitespace():
    assert normalize("  a \n\t b  ") == "a b"
    assert normalize("") == ""


def test_strip_accents_keeps_case():
    assert strip_accents("Đà Nẵng") == "Da Nang"


def test_tokens_and_diacritics_hint():
    assert tokens("Hộ chiếu, visa") == ["ho", "chieu", "visa"]
    assert tokens("  ?! ") == []
    assert has_diacritics("làm hộ chiếu")
    assert not has_diacritics("lam ho chieu")
