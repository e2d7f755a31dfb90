"""The chat page's handlers without a browser: what they put in the chat, the welcome, regenerate, feedback with a
reason, a conversation continued after a reload, no staff or admin element on the public page; and the admin
handlers the staff page will mount (who may open the admin view)."""

from __future__ import annotations

import datetime as dt
import json
import threading

import pytest

from assistant.types import Answer, Part, Query
from serve.feedback import FeedbackStore
from serve.web import Page, Session
from tests.test_presenter import shown


class ScriptedAssistant:
    """Answers every question with the same text and remembers what it was asked."""

    def __init__(self, text: str = "答复"):
        self.text = text
        self.asked: list[str] = []

    def ask(self, question, conversation=None, region=None):
        self.asked.append(question)
        return Answer(question, False, (Part(self.text),), today=dt.date(2026, 11, 21))


@pytest.fixture
def feedback(tmp_path):
    return FeedbackStore(tmp_path / "feedback.sqlite")


def test_the_question_is_shown_as_typed_and_asked_without_control_characters(settings, feedback):
    assistant = ScriptedAssistant("条款原文：见附图![图](http://127.0.0.1:9/x.png)。")
    page = Page(assistant, feedback, settings, stream_delay=0)
    question = "![x](http://127.0.0.1:9/x.png)\x00<b>吉林</b>\x1b专利保险费补几年?"
    steps = list(page.respond(question, [], None, "全部地区"))
    history = steps[-1][1]
    rendered, visible = shown(history[0]["content"])
    assert "<img" not in rendered and "<b>" not in rendered
    assert visible == "![x](http://127.0.0.1:9/x.png)<b>吉林</b>专利保险费补几年?"
    assert assistant.asked == ["![x](http://127.0.0.1:9/x.png)<b>吉林</b>专利保险费补几年?"]
    for _, partial, *_ in steps:
        assert "<img" not in shown(partial[-1]["content"])[0]
    assert "http://127.0.0.1:9/x.png" in shown(history[-1]["content"])[1]


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_guessing_the_admin_token_is_slowed_down_without_locking_the_admin_out(settings, feedback, monkeypatch):
    from serve.throttle import TokenGate

    settings = settings.model_copy(update={"admin_token": "s3cret"})
    clock = FakeClock()
    page = Page(ScriptedAssistant(), feedback, settings, gate=TokenGate(free_attempts=2, clock=clock))
    page.document_rows = list  # the scripted assistant has no index to list
    compared = []
    real = __import__("hmac").compare_digest
    monkeypatch.setattr("serve.throttle.hmac.compare_digest", lambda a, b: compared.append(1) or real(a, b))
    messages = [page.login(f"guess{n}", None, "10.0.0.1")[2] for n in range(6)]  # a guesser behind the admin's NAT
    assert messages[:2] == ["口令不正确。"] * 2 and all("秒后再试" in m for m in messages[2:]) and len(compared) == 2
    assert page.login("s3cret", None, "10.0.0.1")[0].admin  # the admin's token is in another bucket: it gets in
    # Guessing the end of the admin's token's start is slowed down with it, even for the right token.
    assert [page.login(f"s3crX{n}", None, "10.0.0.3")[2] for n in range(2)] == ["口令不正确。"] * 2
    session, _, message, *_ = page.login("s3cret", None, "10.0.0.3")
    assert not session.admin and "秒后再试" in message
    clock.now += 30
    assert page.login("s3cret", None, "10.0.0.3")[0].admin


class MeetingAssistant(ScriptedAssistant):
    """Answers only once every expected conversation is being answered at the same time."""

    def __init__(self, parties: int):
        super().__init__()
        self.barrier = threading.Barrier(parties, timeout=20)

    def ask(self, question, conversation=None, region=None):
        self.barrier.wait()  # raises BrokenBarrierError if the page answers one conversation at a time
        return super().ask(question, conversation, region)


def test_conversations_are_answered_at_the_same_time(settings, feedback):
    page = Page(MeetingAssistant(3), feedback, settings, stream_delay=0)
    finals = []
    threads = [threading.Thread(target=lambda: finals.append(list(page.respond("问题", [], None, "全部地区"))[-1]))
               for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [final[1][-1]["content"] for final in finals] == ["答复"] * 3


def test_the_page_lets_several_questions_run_at_once(settings, feedback):
    from serve.web import build_app

    page = Page(ScriptedAssistant(), feedback, settings)
    page.regions = lambda: ["全部地区"]  # the scripted assistant has no index to take regions from
    app = build_app(page)
    answering = [fn for fn in app.fns.values() if fn.name in ("respond", "ask_example", "regenerate")]
    assert len(answering) == 4  # send, Enter, an example clicked, regenerate
    assert all(fn.concurrency_limit == settings.answer_concurrency > 1 for fn in answering)
    assert len({fn.concurrency_id for fn in answering}) == 1  # one pool shared by every way of asking


def test_a_reindex_from_the_admin_view_does_not_hold_up_questions(settings, feedback):
    reindexing, answered = threading.Event(), threading.Event()

    def reindex():
        reindexing.set()
        return "索引已更新" if answered.wait(timeout=20) else "问题一直在等重新索引"

    assistant = ScriptedAssistant()
    assistant.refresh = lambda wait=False: None
    page = Page(assistant, feedback, settings, stream_delay=0, reindex=reindex)
    page.document_rows = list
    outcome = []
    admin = threading.Thread(target=lambda: outcome.append(page.reindex(Session(admin=True))))
    admin.start()
    reindexing.wait(timeout=20)
    final = list(page.respond("问题", [], None, "全部地区"))[-1]
    answered.set()
    admin.join()
    assert final[1][-1]["content"] == "答复" and outcome[0][0] == "索引已更新"


class StreamingAssistant:
    """Writes its answer through a scripted LLM generator (tokens streamed), then shows the guarded answer."""

    def __init__(self, written: str, shown: str):
        from langchain_core.language_models import FakeListChatModel

        from assistant.generators.llm import LLMGenerator

        self.llm = LLMGenerator("scripted", FakeListChatModel(responses=[written]), fallback=None)
        self.shown = shown

    def ask(self, question, conversation=None, region=None):
        self.llm.answer(Query(question, question), [])  # no clauses: nothing written
        assert self.llm._write({"question": question, "clauses": ""})  # streams to the page's sink
        return Answer(question, False, (Part(self.shown),), today=dt.date(2026, 11, 21))


def test_an_llm_answer_streams_to_the_page_and_is_then_replaced_by_the_checked_one(settings, feedback):
    settings = settings.model_copy(update={"generator": "llamacpp"})
    page = Page(StreamingAssistant("最高奖励500万元[1]。", "最高奖励300万元[1]。"), feedback, settings, stream_delay=0)
    partials = [step[1][-1]["content"] for step in page.respond("奖励多少?", [], None, "全部地区")]
    assert any("核对中" in p and "500万元" in p for p in partials)  # what the model wrote, as it came
    assert "300万元" in partials[-1] and "500万元" not in partials[-1] and "核对中" not in partials[-1]


# The public page: nothing of the staff's or the admin's on it.

STAFF_OR_ADMIN = ("工作人员答复", "管理口令", "生成答复草稿", "答复草稿", "重新建立索引", "用户反馈", "已索引的政策文件",
                  "helpdesk", "admin", "tab-", "draft", "reindex")


def test_the_public_page_has_no_staff_or_admin_element(client):
    """The page as served by the app (an admin token configured): its configuration names no staff or admin
    component, tab or endpoint."""
    served = client.get("/config")
    assert served.status_code == 200
    config = served.json()
    config.pop("css", None)  # the stylesheet names statuses (badge-draft_for_comment), not elements
    text = json.dumps(config, ensure_ascii=False)
    present = [word for word in STAFF_OR_ADMIN if word in text]
    assert present == [], f"the public page carries staff or admin elements: {present}"
    assert '"tabs"' not in text and '"tabitem"' not in text
    names = {d.get("api_name") for d in config["dependencies"]}
    assert "draft" not in names and "respond" in names


def test_the_admin_handlers_stay_for_the_staff_page(settings, feedback):
    """The draft and admin handlers removed from the public page still work when called (the staff page mounts them)."""
    settings = settings.model_copy(update={"admin_token": "s3cret"})
    page = Page(ScriptedAssistant(), feedback, settings, reindex=lambda: "索引已更新")
    page.document_rows = list
    page.assistant.refresh = lambda wait=False: None
    session, _, message, rows, docs = page.login("s3cret", None, "10.0.0.1")
    assert session.admin and message == "" and rows == [] and docs == []
    assert page.reindex(session)[0] == "索引已更新"
    assert page.reindex(Session())[0] == "请先登录管理视图。"


# The welcome: what the knowledge base covers, from the live index.

@pytest.fixture
def indexed(settings, fake_embedder):
    from index.build import build
    from serve.factory import make_assistant

    build(settings, fake_embedder, progress=False)
    return make_assistant(settings, fake_embedder)


def test_the_welcome_lists_the_indexed_documents_and_follows_a_reindex(settings, feedback, fake_embedder, indexed):
    from index.build import build

    page = Page(indexed, feedback, settings)
    first = page.welcome()
    assert "5 份政策文件" in first and "吉林省、日照市、江门市、重庆市" in first
    assert "日政办字〔2022〕10号" in first and "吉政办明电〔2022〕1号" in first
    assert 'badge-period_ended">实施期已届满' in first and 'badge-draft_for_comment">征求意见稿' in first
    assert 'badge-in_force">有效' in first and first.count('class="coverage-doc"') == 5
    (settings.corpus_dir / "南京.txt").write_text(
        "南京市促进专精特新中小企业发展若干措施\n宁政规字〔2025〕3号\n南京市人民政府\n"
        "一、对新认定的国家级专精特新“小巨人”企业给予一次性奖励50万元。\n", encoding="utf-8")
    build(settings, fake_embedder, progress=False)
    indexed.refresh(wait=True)
    welcome, examples, places, history, session, status = page.on_load(None)
    assert "6 份政策文件" in welcome and "南京市促进专精特新中小企业发展若干措施" in welcome
    assert "南京市" in places and history == [] and status == "" and len(examples) == 4


def test_an_example_naming_a_place_the_index_no_longer_covers_is_not_offered(settings, feedback, fake_embedder,
                                                                              indexed):
    from index.build import build

    page = Page(indexed, feedback, settings)
    assert len(page.examples()) == 4 and any("重庆" in q for q in page.examples())
    for chongqing in [f for f in settings.corpus_dir.iterdir() if f.suffix != ".yaml" and "重庆" in f.read_text(
            encoding="utf-8", errors="replace")[:300]]:
        chongqing.unlink()
    build(settings, fake_embedder, progress=False)
    indexed.refresh(wait=True)
    assert "重庆" not in page.welcome() and not any("重庆" in q for q in page.examples())
    assert len(page.examples()) == 3


# Each answer keeps its own sources.

class CitingAssistant(ScriptedAssistant):
    """Answers each question citing a clause and keeps the turn in the conversation, as the real chain does."""

    def __init__(self, clauses):
        super().__init__()
        self.clauses = clauses

    def ask(self, question, conversation=None, region=None):
        from assistant.conversation import Turn
        from assistant.types import Citation

        self.asked.append(question)
        clause = self.clauses[len(self.asked) % len(self.clauses)]
        answer = Answer(question, False, (Part(f"第{len(self.asked)}次回答[1]。"),),
                        citations=(Citation(1, clause, ()),), today=dt.date(2026, 11, 21))
        if conversation is not None:
            conversation.turns.append(Turn(question, question, answer))
        return answer


@pytest.fixture
def seed_clauses():
    from index.clauses import split_clauses
    from tests.test_clean import RIZHAO
    from tests.test_metadata import doc

    clauses = split_clauses(doc(RIZHAO))
    return [c for c in clauses if c.clause_path in ("三、（一）2", "三、（一）3")]


def test_an_earlier_answer_keeps_its_own_sources_after_the_next_one(settings, feedback, seed_clauses):
    page = Page(CitingAssistant(seed_clauses), feedback, settings, stream_delay=0)
    _, history, session, _ = list(page.respond("第一问", [], None, "全部地区"))[-1]
    _, history, session, _ = list(page.respond("第二问", history, session, "全部地区"))[-1]
    first, second = history[1]["content"], history[3]["content"]
    for message, path in ((first, seed_clauses[1].clause_path), (second, seed_clauses[0].clause_path)):
        assert 'class="answer-sources"' in message and path in message
        link = message.split('class="cite" href="#', 1)[1].split('"', 1)[0]
        assert f'id="{link}"' in message  # [1] links to this answer's own source
    assert first.split('href="#')[1][:11] != second.split('href="#')[1][:11]


def test_regenerate_answers_the_last_question_again_in_place_of_its_answer(settings, feedback, seed_clauses):
    assistant = CitingAssistant(seed_clauses)
    page = Page(assistant, feedback, settings, stream_delay=0)
    _, history, session, _ = list(page.respond("第一问", [], None, "全部地区"))[-1]
    _, history, session, _ = list(page.respond("第二问", history, session, "全部地区"))[-1]
    before = session.by_message[3].answer_id
    _, again, session, status = list(page.regenerate(history, session, "全部地区"))[-1]
    assert assistant.asked == ["第一问", "第二问", "第二问"] and status == ""
    assert len(again) == 4 and again[:3] == history[:3] and "第3次回答" in again[3]["content"]
    assert session.by_message[3].answer_id != before
    assert [turn.question for turn in session.conversation.turns] == ["第一问", "第二问"]
    assert list(page.regenerate([], Session(), "全部地区"))[-1][3] == "没有可以重新生成的回答。"


def test_regenerate_after_a_failed_answer_asks_that_question_again(settings, feedback, seed_clauses):
    class FailingOnce(CitingAssistant):
        def ask(self, question, conversation=None, region=None):
            if question == "第二问" and "第二问" not in self.asked:
                self.asked.append(question)
                raise RuntimeError("the index is being swapped")
            return super().ask(question, conversation, region)

    assistant = FailingOnce(seed_clauses)
    page = Page(assistant, feedback, settings, stream_delay=0)
    _, history, session, _ = list(page.respond("第一问", [], None, "全部地区"))[-1]
    _, history, session, _ = list(page.respond("第二问", history, session, "全部地区"))[-1]
    assert "⚠️" in history[-1]["content"]
    _, history, session, _ = list(page.regenerate(history, session, "全部地区"))[-1]
    assert assistant.asked == ["第一问", "第二问", "第二问"] and len(history) == 4
    assert [turn.question for turn in session.conversation.turns] == ["第一问", "第二问"]


def test_feedback_is_the_thumb_first_then_an_optional_reason(settings, feedback, seed_clauses):
    page = Page(CitingAssistant(seed_clauses), feedback, settings, stream_delay=0)
    _, history, session, _ = list(page.respond("第一问", [], None, "全部地区"))[-1]
    said, opens, reasons = page.rate_message(1, "Dislike", session)
    assert "已记录" in said and opens and "引用的条款不对" in reasons
    stored = feedback.all()
    assert [(f.rating, f.comment) for f in stored] == [(-1, "")]  # stored at the thumb, before any reason
    assert page.give_reason("引用的条款不对", "应该引用第三条", session) == "感谢您的反馈，原因已记录。"
    assert [(f.rating, f.comment) for f in feedback.all()] == [(-1, "引用的条款不对；应该引用第三条")]
    assert page.give_reason("信息不完整", "", session) == "请先点赞或点踩，再填写原因。"  # the dialog was answered
    assert page.rate_message(0, "Like", session)[:2] == ("这条消息不能评价。", False)  # a question, not an answer


# The conversation survives a reload: a server-issued id and secret the browser keeps.

def test_a_reload_continues_the_stored_conversation(settings, feedback, indexed):
    from serve.store import ConversationStore, open_database

    store = ConversationStore(open_database(f"sqlite:///{settings.data_dir / 'page.sqlite'}"))
    page = Page(indexed, feedback, settings, stream_delay=0, conversations=store)
    _, _, session, _ = list(page.respond("吉林省对专精特新企业的专利保险费有补助吗?", [], None, "全部地区"))[-1]
    saved = session.saved()
    assert store.opens(saved["conversation_id"], saved["conversation_secret"])
    history, restored, status = page.restore(saved)  # what a reload does with what the browser kept
    assert restored.conversation.id == saved["conversation_id"] and len(restored.conversation.turns) == 1
    assert history == [] and "已接续您上次的对话（1 个问题" in status
    _, history, restored, _ = list(page.respond("最多补几年?", history, restored, "全部地区"))[-1]
    assert "3年" in history[-1]["content"]  # the follow-up follows the question asked before the reload
    assert len(store.load(saved["conversation_id"], indexed.kb.by_id).turns) == 2
    assert page.restore({**saved, "conversation_secret": "guessed"})[1].conversation.id != saved["conversation_id"]
    for kept in (None, {}, "x", ["a"], {"conversation_id": ["a"], "conversation_secret": 1}):  # what a browser may send
        assert page.restore(kept)[1].secret == ""


def test_the_restored_line_shows_the_last_question_as_typed_never_as_markdown(settings, feedback, indexed):
    from serve.store import ConversationStore, open_database
    from tests.test_presenter import shown

    store = ConversationStore(open_database(f"sqlite:///{settings.data_dir / 'page.sqlite'}"))
    page = Page(indexed, feedback, settings, stream_delay=0, conversations=store)
    _, _, session, _ = list(page.respond("![x](http://127.0.0.1:9/x.png)补几年?", [], None, "全部地区"))[-1]
    status = page.restore(session.saved())[2]
    rendered, visible = shown(status)
    assert "<img" not in rendered and "![x](http://127.0.0.1:9/x.png)…" in visible  # cut at 30 characters


def test_a_reload_shows_the_stored_messages_when_the_service_gives_them(settings, feedback, indexed):
    from serve.store import ConversationStore, open_database

    store = ConversationStore(open_database(f"sqlite:///{settings.data_dir / 'page.sqlite'}"))
    asked = []

    def stored_messages(conversation_id, secret):
        asked.append((conversation_id, secret))
        return [("user", "奖励什么时候发?"), ("assistant", "文件未规定发放时间。"), ("staff", "请联系省工信厅。")]

    page = Page(indexed, feedback, settings, stream_delay=0, conversations=store, stored_messages=stored_messages)
    _, _, session, _ = list(page.respond("奖励什么时候发?", [], None, "全部地区"))[-1]
    history, restored, status = page.restore(session.saved())
    assert asked == [(session.conversation.id, session.secret)] and status == ""
    assert [m["role"] for m in history] == ["user", "assistant", "assistant"]
    assert history[2]["content"].startswith("**工作人员答复**") and "省工信厅" in history[2]["content"]


def test_without_the_database_a_conversation_goes_on_in_the_session(settings, feedback, seed_clauses):
    from core.errors import DatabaseUnavailableError

    class DownStore:
        def start(self):
            raise DatabaseUnavailableError("the database does not answer")

    page = Page(CitingAssistant(seed_clauses), feedback, settings, stream_delay=0, conversations=DownStore())
    _, history, session, _ = list(page.respond("第一问", [], None, "全部地区"))[-1]
    assert "第1次回答" in history[-1]["content"] and session.saved() == {}


def test_the_helpdesk_draft_handler_still_drafts_a_formal_cited_reply(settings, feedback, indexed):
    """The draft handler, off the public page, for the staff page to mount."""
    page = Page(indexed, feedback, settings)
    draft, sources, status = page.draft("我公司是吉林省的省级专精特新中小企业，请问新认定的省级科技企业孵化器有什么补贴？")
    assert draft.startswith("您好！") and "政策依据：" in draft and "二、（四）18" in draft and status == ""
    assert 'class="source"' in sources and page.draft("  ")[2] == "请先粘贴企业的问题。"
