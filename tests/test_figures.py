"""The enterprise's own figures against a clause's thresholds, and amounts asked for but not stated."""

from __future__ import annotations

import pytest

from assistant.figures import compare, figures, missing_figure, stated_figures, thresholds, unanswered_quantity

CRITERIA = "到2025年底,研发投入占销售收入比例不低于2%,科技人员占职工总数比例不低于10%,营业收入2000万元以上"


@pytest.mark.parametrize(
    ("text", "values"),
    [
        ("最高补助35万元", [("money", 350000.0)]),
        ("营收800多万", [("money", 8000000.0)]),
        ("总额不超过1.5亿元", [("money", 150000000.0)]),
        ("费率4%，80个人", [("percent", 4.0), ("people", 80.0)]),
    ],
)
def test_figures_are_read_with_their_units(text, values):
    assert [(f.kind, f.value) for f in figures(text)] == values


def test_thresholds_know_at_least_from_at_most():
    found = {t.text: t.minimum for t in thresholds(CRITERIA + ",最高不超过3%的保险费率,500万元及以下")}
    assert found == {"不低于2%": True, "不低于10%": True, "2000万元以上": True, "最高不超过3%": False, "500万元及以下": False}


def test_two_head_counts_give_their_share():
    shares = [f for f in stated_figures("公司80个人里搞研发的只有6个，比例够不够?") if f.kind == "percent"]
    assert [round(f.value, 1) for f in shares] == [7.5]


@pytest.mark.parametrize(
    ("question", "clause", "expected"),
    [
        ("公司80个人里搞研发的技术人员只有6个，比例够不够？", CRITERIA, "6÷80=7.5%，未达到条款中的“不低于10%”"),
        ("我们去年营收800多万，够不够?", CRITERIA, "800多万（约数，请以实际数字核对），未达到条款中的“2000万元以上”"),
        ("我们营收3000万", CRITERIA, "3000万，达到条款中的“2000万元以上”"),
        ("保险费率是4%，能全补吗？", "按照最高不超过3%的保险费率给予补贴", "4%，超出条款中的“最高不超过3%”"),
    ],
)
def test_a_stated_figure_is_compared_with_the_threshold_of_its_kind(question, clause, expected):
    (comparison,) = compare(question, clause)
    assert expected in comparison.sentence()


def test_no_comparison_without_a_threshold_of_the_same_kind():
    assert compare("我们有80个人", "最高补助35万元") == []
    assert compare("专利保险费最多补几年?", CRITERIA) == []


@pytest.mark.parametrize(
    ("question", "quoted", "expected"),
    [
        ("江门对首次认定的企业奖励多少钱?", "将专精特新企业纳入专项资金重点支持范围。", "amount"),
        ("江门对首次认定的企业奖励多少钱?", "给予一次性奖励20万元。", None),
        ("贴息比例是多少?", "给予贴息支持。", "rate"),
        ("有哪些支持措施?", "给予支持。", None),
    ],
)
def test_an_amount_asked_for_but_not_stated_is_named(question, quoted, expected):
    assert missing_figure(question, quoted) == expected


@pytest.mark.parametrize(
    ("question", "subject"),
    [
        ("政府采购的时候，专精特新企业的产品能享受多少价格扣除？", "价格扣除"),
        ("社保费减免比例是多少?", "减免比例"),
        ("有哪些支持措施?", None),
    ],
)
def test_the_quantity_a_how_much_question_asks_for(question, subject):
    from assistant.figures import asked_quantity

    found = asked_quantity(question)
    assert found == subject if subject is None else subject in found  # up to six characters before 多少


@pytest.mark.parametrize(
    ("quoted", "unanswered"),
    [
        ("纳入政府采购目录的首台(套)首版次产品,同质同价下优先采购。", True),  # not about 价格扣除, no figure
        ("对纳入目录的产品给予10%的价格扣除。", False),  # states a figure
        ("对纳入目录的产品给予价格扣除优惠。", False),  # about it, states no figure: answered, saying so
    ],
)
def test_a_quantity_the_quoted_sentences_neither_name_nor_state_has_no_basis(quoted, unanswered):
    from assistant.figures import unanswered_quantity

    found = unanswered_quantity("专精特新企业的产品能享受多少价格扣除？", quoted)
    assert (found is not None) is unanswered


@pytest.mark.parametrize(
    ("text", "values"),
    [
        ("营收八百多万", [("money", 8000000.0)]),
        ("两千五百万元", [("money", 25000000.0)]),
        ("营收900来万", [("money", 9000000.0)]),
        ("登记注册两年以上", [("years", 2.0)]),
        ("一年半", [("years", 1.5)]),
        ("18个月", [("years", 1.5)]),
        ("2022年底前", []),  # a year, not a length of time
    ],
)
def test_chinese_numerals_approximations_and_lengths_of_time_are_read(text, values):
    assert [(f.kind, f.value) for f in figures(text)] == values


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("我们在日照注册才一年半，能申请吗？", "一年半，未达到条款中的“两年以上”"),
        ("我们注册不到两年，能申请吗？", "不到两年，未达到条款中的“两年以上”"),
        ("公司成立已经三年了，可以吗？", "三年，达到条款中的“两年以上”"),
    ],
)
def test_how_long_an_enterprise_has_existed_is_compared_with_a_minimum_age(question, expected):
    (comparison,) = compare(question, "一是在我市登记注册两年以上,具有独立法人资格")
    assert expected in comparison.sentence()


def test_a_length_of_time_the_enterprise_does_not_state_about_itself_is_not_compared():
    assert compare("重庆三年行动计划对注册时间有要求吗？", "一是在我市登记注册两年以上") == []


def test_a_phone_number_asked_for_is_a_run_of_digits():
    assert unanswered_quantity("线下业务的联系电话是多少？", "业务咨询请拨打022-25201234。") is None
    assert unanswered_quantity("线下业务的联系电话是多少？", "请通过网上渠道办理业务。") is not None


def test_a_share_written_in_words_answers_how_much_of_it():
    quoted = "向中小企业预留的采购份额应当占本部门年度政府采购项目预算总额的百分之三十以上；其中，预留给小型微型企业的比例不低于百分之六十。"
    assert unanswered_quantity("政府采购国家规定到底留多少？其中给小微企业的又占多少？", quoted) is None
    assert unanswered_quantity("政府采购给小微企业的又占多少？", "采购信息应当及时向社会公开发布。") is not None


def test_an_enterprises_age_is_not_compared_with_how_many_years_a_subsidy_lasts():
    assert compare("我们成立3年了，专利保险费能补几年？", "对专利保险费给予补助,最多可获得3年,每年最高不超过10万元") == []
