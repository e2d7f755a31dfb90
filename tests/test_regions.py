"""Place names in questions (either script) and which documents cover them."""

from __future__ import annotations

import pytest

from assistant.regions import RegionResolver
from index.gazetteer import default_gazetteer
from tests.test_clauses import SEEDS
from tests.test_metadata import doc


@pytest.fixture(scope="module")
def resolver():
    return RegionResolver([doc(seed) for seed in SEEDS], default_gazetteer())


@pytest.mark.parametrize(
    ("question", "covered", "uncovered"),
    [
        ("江門的專精特新企業用電用能有什麼保障?", ["江门市"], []),
        ("日照市上市后备资源库", ["日照市"], []),
        ("吉林省技术合同交易额补助", ["吉林省"], []),
        ("长春市的专精特新企业能享受吉林省的奖补吗", ["长春市"], []),  # 长春 lies in 吉林: one place, not two
        ("北京市专精特新企业房租补贴标准是多少?", [], ["北京市"]),
        ("深圳专精特新小巨人奖励多少钱?", [], ["深圳市"]),
        ("广东省的专精特新政策", [], ["广东省"]),
        ("吉林和上海分别奖励多少", ["吉林省"], ["上海市"]),
        ("专利保险费有补助吗", [], []),
        ("日照市对达到考核目标的区县最高奖励多少?", ["日照市"], []),  # 县 is a table row, not a place
        ("省市和县级专精特新企业", [], []),  # 和县 is a county, but here just words
    ],
)
def test_region_match(resolver, question, covered, uncovered):
    match = resolver.match(question)
    assert [place.name for place, _ in match.covered] == covered
    assert [place.name for place in match.uncovered] == uncovered


def test_a_provincial_policy_covers_its_cities_and_a_city_policy_only_its_city(resolver):
    changchun = resolver.match("长春市").covered[0][1]
    assert changchun == ("004_ed6825514d89ba11",)
    chongqing = resolver.match("重庆").covered[0][1]
    assert set(chongqing) == {"000_e612226a6a7e82f6", "002_a47861c4acf66335"}


def test_regions_for_the_filter(resolver):
    assert [name for name, _ in resolver.regions()] == ["吉林省", "日照市", "江门市", "重庆市"]


def test_a_place_and_the_division_it_lies_in_are_one_place_not_a_comparison():
    from assistant.regions import most_specific
    from index.gazetteer import default_gazetteer

    places = most_specific(default_gazetteer().find("驻天津滨海新区各金融机构"))
    assert [p.name for p in places] == ["滨海新区"]
    both = most_specific(default_gazetteer().find("吉林和江门分别奖励多少"))
    assert {p.name for p in both} == {"吉林省", "江门市"}


def test_a_citys_policy_covers_its_districts():
    from assistant.regions import RegionResolver
    from core.types import PolicyDoc
    from index.gazetteer import default_gazetteer

    shenzhen = PolicyDoc(doc_id="sz", title="深圳市助企措施", source="sz.txt", text="", content_hash="h",
                         province="广东省", city="深圳市", level="municipal")
    match = RegionResolver([shenzhen], default_gazetteer()).match("深圳市南山区将从哪几方面为企业提供支持?")
    assert [(p.name, ids) for p, ids in match.covered] == [("南山区", ("sz",))]
