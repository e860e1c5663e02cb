import pytest

from knowledge.embeddings import HashingEmbedder
from knowledge.query import analyse
from knowledge.ranker import load_bundled_ranker
from knowledge.schema import Procedure
from knowledge.search import (
    ProcedureSearch,
    age_conflict,
    asked_age,
    asked_words,
    company_fit,
    for_individuals,
    for_organisations_only,
    variant_name,
)


@pytest.fixture
def search(mini_catalogue):
    return ProcedureSearch(mini_catalogue)


def _ranked_search(names: dict[str, str]) -> ProcedureSearch:
    """A search with the bundled ranker over procedures given as ``{code: name}``."""
    return ProcedureSearch(
        [Procedure.from_dict({"code": c, "name": n}) for c, n in names.items()],
        embedder=HashingEmbedder(),
        ranker=load_bundled_ranker(),
    )


@pytest.mark.parametrize(
    ("question", "code"),
    [
        ("đăng ký khai sinh cho con cần gì", "1.000001"),
        ("dang ky khai sinh cho con can gi", "1.000001"),
        ("lam ho chieu mat bao lau", "1.000003"),
        ("làm lại căn cước bị mất", "1.000004"),
        ("How do I register a birth?", "1.000001"),
        ("fee for a criminal record certificate", "2.000005"),
        ("xin giấy phép xây nhà", "2.000006"),
    ],
)
def test_finds_the_procedure_in_any_language_and_spelling(search, question, code):
    result = search.search(question, k=3)
    assert result.top is not None
    assert result.top.code == code, result.to_dict()


def test_clear_question_is_confident_and_vague_one_is_not(search):
    clear = search.search("đăng ký kết hôn")
    assert clear.confident and clear.confidence >= 0.5
    vague = search.search("đăng ký")
    assert not vague.confident
    assert len(vague.hits) >= 2


def test_nonsense_returns_nothing(search):
    for text in ("", "   ", "🙂🙂", "xyzzy qwerty"):
        result = search.search(text)
        assert result.hits == [] and not result.confident


def test_hits_are_ranked_and_capped(search):
    result = search.search("đăng ký", k=2)
    assert len(result.hits) == 2
    assert result.hits[0].score >= result.hits[1].score
    as_dict = result.to_dict()
    assert as_dict["hits"][0]["code"] == result.hits[0].code
    assert as_dict["language"] == "vi"


def test_upsert_makes_an_edit_searchable_at_once(mini_catalogue):
    search = ProcedureSearch(mini_catalogue, HashingEmbedder())
    before = search.search("nuôi chó mèo cảnh")
    assert before.top is None or not before.confident
    edited = Procedure.from_dict({**mini_catalogue[5].to_dict(), "keywords": ["nuôi chó mèo cảnh"]})
    search.upsert(edited)
    after = search.search("nuôi chó mèo cảnh")
    assert after.top.code == edited.code and after.confident
    assert search.dense_index.hashes[edited.code] == edited.content_hash()
    assert len(search) == len(mini_catalogue)


def test_remove_drops_the_procedure(mini_catalogue):
    search = ProcedureSearch(mini_catalogue, HashingEmbedder())
    assert search.remove("1.000002") is True
    assert search.remove("1.000002") is False
    assert "1.000002" not in search
    assert "1.000002" not in search.dense_index.ids
    hit = search.search("đăng ký kết hôn").top
    assert hit is None or hit.code != "1.000002"


def test_with_weights_changes_ranking_without_touching_the_original(mini_catalogue):
    search = ProcedureSearch(mini_catalogue)
    clone = search.with_weights(curated=5.0)
    assert clone.weights.curated == 5.0
    assert search.weights.curated != 5.0
    # A huge curated prior lifts procedures with keywords over the one without.
    assert clone.search("xây dựng đăng ký").top.code != "2.000006"


def test_individual_prior():
    person = Procedure.from_dict({"code": "1.000009", "name": "A", "applicants": ["Công dân"]})
    company = Procedure.from_dict({"code": "1.000010", "name": "B", "applicants": ["Doanh nghiệp"]})
    unknown = Procedure.from_dict({"code": "1.000011", "name": "C"})
    assert for_individuals(person) and for_individuals(unknown)
    assert not for_individuals(company)


def test_apply_rebuilds_only_changed_fields_and_matches_a_fresh_index(mini_catalogue):
    search = ProcedureSearch(mini_catalogue)
    kept = {f: search._bm25[f] for f in ("name", "field", "body")}
    passport = mini_catalogue[2].to_dict()
    passport["keywords"] = [*passport["keywords"], "xin passport cho bé mới sinh được không"]
    passport["channels"] = []
    edited = Procedure.from_dict(passport)
    search.apply([edited])
    assert all(search._bm25[f] is kept[f] for f in kept)  # only the alias field was rebuilt
    fresh = ProcedureSearch([edited if p.code == edited.code else p for p in mini_catalogue])
    for question in ("xin passport cho bé mới sinh", "đăng ký kết hôn", "giấy phép xây dựng"):
        assert search.search(question, 3).to_dict() == fresh.search(question, 3).to_dict()
    search.apply([mini_catalogue[0]], removed=[mini_catalogue[5].code])
    assert len(search) == 5 and all(search._bm25[f] is not kept[f] for f in kept)


def test_organisations_only():
    company = Procedure.from_dict({"code": "1.000010", "name": "B", "applicants": ["Doanh nghiệp"]})
    both = Procedure.from_dict(
        {"code": "1.000012", "name": "D", "applicants": ["Tổ chức", "Hộ gia đình, cá nhân"]}
    )
    unknown = Procedure.from_dict({"code": "1.000011", "name": "C"})
    assert for_organisations_only(company)
    assert not for_organisations_only(both) and not for_organisations_only(unknown)


def test_variants_named_by_agency_are_one_procedure():
    central = "Cấp thẻ tạm trú cho người nước ngoài tại Cục Quản lý xuất nhập cảnh, Bộ Công an"
    province = "Cấp thẻ tạm trú cho người nước ngoài tại Việt Nam tại Công an cấp tỉnh"
    assert variant_name(central) == variant_name(province)
    border = "Thủ tục đăng ký kết hôn có yếu tố nước ngoài tại khu vực biên giới"
    assert variant_name(border) != variant_name("Thủ tục đăng ký kết hôn có yếu tố nước ngoài")
    assert variant_name("Thủ tục tái cấp vốn") == "thu tuc tai cap von"


def test_a_special_case_nobody_asked_goes_after_the_plain_procedure():
    names = {
        "1.000020": "Thu hồi mã số định danh cơ sở chăn nuôi",
        "1.000021": "Cấp mã số định danh cơ sở chăn nuôi",
        "1.000022": "Dừng thực hiện thủ tục đăng ký hộ kinh doanh",
        "1.000023": "Đăng ký thành lập hộ kinh doanh",
        "1.000024": "Thủ tục đăng ký kết hôn có yếu tố nước ngoài tại khu vực biên giới",
        "1.000025": "Thủ tục đăng ký kết hôn có yếu tố nước ngoài",
    }
    search = _ranked_search(names)
    assert search.search("xin ma so dinh danh co so chan nuoi", 3).hits[0].code == "1.000021"
    assert search.search("thu hồi mã số định danh chăn nuôi", 3).hits[0].code == "1.000020"
    assert search.search("le phi dang ky ho kinh doanh", 3).hits[0].code == "1.000023"
    assert search.search("lấy chồng người Trung Quốc đăng ký kết hôn", 3).hits[0].code == "1.000025"


@pytest.mark.parametrize(
    ("text", "again"),
    [
        ("Em muốn thi bằng lái xe máy A1", False),  # "lái" (drive) folds to "lai"
        ("thi bang lai xe", False),
        ("lam lai bang lai xe", True),
        ("cấp lại bằng lái", True),
        ("replace my driving licence", True),
    ],
)
def test_lai_is_asked_only_as_again(text, again):
    assert ("lai" in asked_words(analyse(text), text)) is again


@pytest.mark.parametrize(
    ("text", "age"),
    [
        ("lần đầu đi làm căn cước cho con 15 tuổi", 15),
        ("con em 12t rồi", 12),
        ("my 10-year-old son", 10),
        ("a child aged 6", 6),
        ("sinh năm 2010, giờ làm lại", None),
        ("lệ phí 50.000 đồng", None),
        # a range is no age: "dưới 14 tuổi" must not rule out the under-14 procedure
        ("làm căn cước cho trẻ dưới 14 tuổi", None),
        ("liên thông khai sinh cho trẻ dưới 6 tuổi, bé nhà em 3 tuổi", 3),
        ("ID cards for children under 14 years old", None),
    ],
)
def test_asked_age(text, age):
    assert asked_age(text) == age


def test_a_stated_age_rules_out_procedures_for_other_ages():
    under = "Cấp thẻ căn cước cho người dưới 14 tuổi"
    over = "Cấp thẻ căn cước cho người từ đủ 14 tuổi trở lên"
    assert age_conflict(15, under) and not age_conflict(15, over)
    assert age_conflict(10, over) and not age_conflict(10, under)
    assert not age_conflict(None, under)
    search = ProcedureSearch(
        [
            Procedure.from_dict({"code": "1.000030", "name": under}),
            Procedure.from_dict({"code": "1.000031", "name": over}),
        ],
        embedder=HashingEmbedder(),
        ranker=load_bundled_ranker(),
    )
    assert search.search("làm căn cước cho con 15 tuổi", 2).hits[0].code == "1.000031"
    assert search.search("làm căn cước cho con 10 tuổi", 2).hits[0].code == "1.000030"


def test_procedures_a_stated_age_excludes_go_after_every_one_that_fits():
    names = {
        "1.000030": "Cấp thẻ căn cước cho người dưới 14 tuổi",
        "1.000031": "Cấp đổi thẻ căn cước",
        "1.000032": "Cấp thẻ căn cước cho người từ đủ 14 tuổi trở lên",
        "1.000033": "Cấp lại thẻ căn cước",
    }
    search = _ranked_search(names)
    codes = [h.code for h in search.search("thẻ căn cước cho con gái 15 tuổi", 4).hits]
    assert codes[-1] == "1.000030" and len(codes) == 4
    codes = [h.code for h in search.search("căn cước cho bé 8 tuổi", 4).hits]
    assert codes[-1] == "1.000032" and codes[0] == "1.000030"


def test_company_fit():
    household = "Tạm ngừng kinh doanh của hộ kinh doanh"
    company = "Thông báo tạm ngừng kinh doanh của doanh nghiệp"
    assert company_fit(True, household) == -1.0
    assert company_fit(True, "Đăng ký đất đai lần đầu đối với hộ gia đình, cá nhân") == -1.0
    assert company_fit(True, company) == 1.0
    assert company_fit(False, household) == company_fit(False, company) == 0.0


def test_english_function_words_of_a_name_match_no_vietnamese_question():
    from knowledge.search import english_content

    assert english_content("Re-issue of the ID card to a citizen") == "Re-issue ID card citizen"
    search = ProcedureSearch(
        [
            Procedure.from_dict(
                {"code": "1.000040", "name": "Đăng ký kết hôn", "name_en": "Get the card to do so"}
            )
        ]
    )
    # "thẻ", "tổ", "đó" fold to "the", "to", "do": the English name must not offer them.
    assert "card" in search.words_of("1.000040")
    assert not {"the", "to", "do", "so"} & search.words_of("1.000040")


def test_a_company_question_puts_a_household_business_procedure_after_the_companys():
    search = ProcedureSearch(
        [
            # the household business's is curated (keywords citizens use): it leads on words
            Procedure.from_dict({"code": code, "name": name, "keywords": keywords})
            for code, name, keywords in (
                (
                    "1.000050",
                    "Tạm ngừng kinh doanh, tiếp tục kinh doanh trước thời hạn đã thông báo "
                    "của hộ kinh doanh",
                    ["tạm ngừng kinh doanh", "muốn tạm ngừng kinh doanh"],
                ),
                (
                    "1.000051",
                    "Thông báo tạm ngừng kinh doanh, tiếp tục kinh doanh trước thời hạn đã "
                    "thông báo (doanh nghiệp, chi nhánh, văn phòng đại diện, địa điểm kinh "
                    "doanh)",
                    [],
                ),
            )
        ],
        embedder=HashingEmbedder(),
        ranker=load_bundled_ranker(),
    )
    question = "cty em muốn tạm ngừng kinh doanh 6 tháng thì làm thủ tục gì ạ"
    company = [h.code for h in search.search(question, 2).hits]
    assert company == ["1.000051", "1.000050"]
    household = "hộ kinh doanh của công ty mẹ em muốn tạm ngừng kinh doanh"
    assert search.search(household, 2).hits[0].code == "1.000050"
