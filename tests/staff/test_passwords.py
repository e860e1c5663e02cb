"""The password policy: refuses common and guessable passwords and says why."""

import pytest

from staff.passwords import (
    COMMON_FILE,
    WeakPassword,
    check_password,
    common_passwords,
    is_walk,
    password_problem,
)
from tests.staff.conftest import PASSWORD


def test_the_bundled_list_is_large_folded_and_offline():
    words = common_passwords()
    assert len(words) > 3000
    assert {"password", "123456", "qwerty", "matkhau", "anhyeuem", "nguyenvananh"} <= words
    assert COMMON_FILE.is_file() and all(w == w.lower() and w.isascii() for w in words)


@pytest.mark.parametrize(
    ("password", "why"),
    [
        ("12345678", "at least"),  # the probe's example
        ("Abc123!", "at least"),
        ("123456789012", "digits only"),  # digits: dates, phone and ID numbers
        ("098765432101", "digits only"),
        ("aaaaaaaaaaaa", "different characters"),  # one character class repeated
        ("abababababab", "different characters"),
        ("abc123abc123", "repeated"),
        ("passwordpassword", "repeated"),
        ("abcdefghijkl", "sequence"),  # sequences and keyboard walks
        ("zyxwvutsrqpo", "sequence"),
        ("qazwsxedcrfv", "sequence"),
        ("1qaz2wsx3edc", "sequence"),
        ("1q2w3e4r5t6y", "sequence"),
        ("qwertyuiop12", "common"),
        ("!@#$%^&*()!@", "symbols"),
        ("password1234", "common"),  # common words, breached-style decorations
        ("Password2024!", "common"),
        ("P@ssw0rd2024", "common"),
        ("p a s s w o r d 1", "common"),
        ("ｐａｓｓｗｏｒｄ２０２４", "common"),  # full-width forms
        ("iloveyou2024", "common"),
        ("admin@123456", "common"),
        ("Administrator1", "common"),
        ("matkhau@123456", "common"),  # Vietnamese: "password", "I love you", the office
        ("Mật Khẩu 2024!", "common"),
        ("anhyeuem1234", "common"),
        ("Motcua@2024!!", "common"),
        ("Dichvucong#2025", "common"),
        ("Nguyenvananh1990", "common"),  # names with a birth year
        ("nguyen thi lan 1995", "common"),
        ("Hanoi@12345678", "common"),
        ("Ab1!20051990", "short word"),
    ],
)
def test_weak_passwords_are_refused_with_the_reason(password, why):
    with pytest.raises(WeakPassword, match=why):
        check_password(password, "mai")


@pytest.mark.parametrize(
    ("name", "password"),
    [
        ("lan.nguyen", "lan.nguyen is here"),
        ("lan.nguyen", "my nguyen family tree"),
        ("hoang", "HOANG the great 1"),
        ("hoang", "hoàng và những người bạn"),
        ("root", "my r00t password".replace("00", "oo")),
    ],
)
def test_a_password_must_not_contain_the_user_name(name, password):
    assert password_problem(password, name) == "a password must not contain the user name"


@pytest.mark.parametrize(
    "password",
    [
        PASSWORD,
        "a long password",
        "staff password 1",
        "x7#Kp2$9mQ!z",
        "trâu cày ruộng sâu",
        "hanoi mùa thu vàng lá",
        "Bún chả 36 Hàng Mành",
    ],
)
def test_good_passwords_pass(password):
    assert password_problem(password, "lan") is None
    assert check_password(password, "lan") == password


def test_walks():
    assert is_walk("qwerty") and is_walk("987654") and is_walk("abc123abc123")
    assert not is_walk("correcthorse") and not is_walk("ab")
