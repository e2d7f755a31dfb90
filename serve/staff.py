"""The staff desk (Gradio, mounted at ``/staff``, never inside the public page): login, the ticket queue, one ticket's
conversation with an editable draft, "send" and "publish to the 答疑库", ticket counts, the 答疑库 entries (edit,
retire), feedback with the answer rated, and the document admin (the chat page's ``Page`` methods: documents, re-index). Every handler refuses a session that has not logged
in, so calling the desk's Gradio API directly without the token does nothing."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path

from core.errors import PolicyQAError
from index.documents import doc_ids_for
from index.loaders import corpus_files
from serve import uploads
from serve.desk import Desk, local_time
from serve.handoff import TICKET_REASONS
from serve.presenter import inert_markdown, printable
from serve.throttle import TokenGate
from serve.tickets import STATUS_LABELS, STATUSES
from serve.web import Page, Session

log = logging.getLogger(__name__)
ALL = "全部"
NOT_LOGGED_IN = "请先登录工作人员答疑台。"
QUEUE_HEADERS = ["编号", "状态", "问题", "提交时间", "原因", "联系方式"]  # the question early: seen on a phone
FEEDBACK_HEADERS = ["时间", "评价", "问题", "被评价的回答", "意见"]
DOCUMENT_HEADERS = ["标题", "文号", "地区", "状态", "条款数", "文件"]
ENTRY_HEADERS = ["编号", "状态", "问题", "答复", "依据条款", "答复单位", "日期"]


@dataclass
class StaffSession:
    """One browser session of the desk: whether it has logged in."""

    staff: bool = False


class StaffPage:
    """The desk's handlers, with their collaborators passed in: the desk service, the chat page's handlers (for
    the document admin), the settings and the token gate (the API's: one count of guesses)."""

    def __init__(self, desk: Desk, page: Page, settings, gate: TokenGate | None = None):
        self.desk = desk
        self.page = page
        self.settings = settings
        self.gate = gate or page.gate

    def login(self, token: str, session: StaffSession | None, client: str = "unknown"):
        """Open the desk when the token is the staff (or admin) token; guesses are slowed down by the token gate.
        Returns (session, message, counts, queue, feedback, documents, 答疑库 entries)."""
        session = session or StaffSession()
        tokens = [t for t in (self.settings.staff_token, self.settings.admin_token) if t]
        verdict = self.gate.check(client, token or "", tokens)
        session.staff = verdict.allowed
        if verdict.wait > 0:
            return session, f"尝试次数过多，请 {math.ceil(verdict.wait)} 秒后再试。", "", [], [], [], []
        if not session.staff:
            return session, "口令不正确。", "", [], [], [], []
        return session, "已登录。", self.counts(session), self.queue(ALL, "", session), self.feedback_rows(session), \
            self.document_rows(session), self.entry_rows(session)

    def counts(self, session: StaffSession | None) -> str:
        """Ticket counts per status, one line."""
        if not _in(session):
            return NOT_LOGGED_IN
        counts = self.desk.tickets.counts()
        return "　".join(f"{STATUS_LABELS[s]}：**{counts[s]}**" for s in STATUSES)

    def queue(self, status: str, search: str, session: StaffSession | None) -> list[list]:
        """The queue, oldest first: of one status (``ALL``: every status), whose text contains ``search``."""
        if not _in(session):
            return []
        wanted = next((s for s, label in STATUS_LABELS.items() if label == status), None)
        tz = self.settings.timezone
        return [[t.ticket_id, STATUS_LABELS[t.status], t.question, local_time(t.created_at, tz),
                 TICKET_REASONS.get(t.reason, t.reason), t.contact]
                for t in self.desk.tickets.queue(wanted, printable(search or "")[:100])]

    def open_ticket(self, ticket_id, session: StaffSession | None) -> tuple[str, str, str]:
        """A ticket's conversation (Markdown, inert), its draft (saved text, else the drafter's) and a status line.
        Opening an open ticket marks it in progress."""
        if not _in(session):
            return "", "", NOT_LOGGED_IN
        try:
            number = int(ticket_id)
            ticket, view = self.desk.staff_view(number)
            if ticket.status == "open":
                ticket = self.desk.tickets.set_status(number, "in_progress")
            draft = self.desk.draft(ticket)
        except (TypeError, ValueError):
            return "", "", "请输入或点选工单编号。"
        except PolicyQAError as exc:
            return "", "", f"无法打开工单：{exc}"
        tz = self.settings.timezone
        lines = [f"**工单 {ticket.ticket_id}**（{STATUS_LABELS[ticket.status]}，{TICKET_REASONS.get(ticket.reason, ticket.reason)}，"
                 f"提交于 {local_time(ticket.created_at, tz)}）"]
        if ticket.contact:
            lines.append(f"联系方式：{inert_markdown(ticket.contact)}")
        if ticket.clause_ids:
            lines.append("最接近的条款：" + "；".join(self._clause_names(ticket.clause_ids)))
        if not view.messages:
            lines.append("（提问人已删除该对话，答复无法送达。）")
        for message in view.messages:
            who = {"user": "提问人", "assistant": "智能助手", "staff": view.staff_label(message)}[message.role]
            lines.append(f"**{who}**（{local_time(message.created_at, tz)}）：\n\n{_lines(message.text)}")
        return "\n\n".join(lines), draft, ""

    def save_draft(self, ticket_id, text: str, session: StaffSession | None) -> str:
        """Keep the edited text on the ticket without sending it."""
        if not _in(session):
            return NOT_LOGGED_IN
        try:
            self.desk.tickets.save_draft(int(ticket_id), printable(text or ""))
        except (TypeError, ValueError):
            return "请输入或点选工单编号。"
        except PolicyQAError as exc:
            return f"未保存：{exc}"
        return "草稿已保存。"

    def send(self, ticket_id, text: str, session: StaffSession | None):
        """Send the reply into the asker's conversation (once); returns (status line, counts, queue)."""
        if not _in(session):
            return NOT_LOGGED_IN, "", []
        try:
            sent = self.desk.reply(int(ticket_id), printable(text or ""))
        except (TypeError, ValueError):
            return "请输入或点选工单编号。", self.counts(session), self.queue(ALL, "", session)
        except PolicyQAError as exc:
            return f"未发送：{exc}", self.counts(session), self.queue(ALL, "", session)
        message = "已发送给提问人。" if sent.delivered else "这张工单已答复过，本次没有重复发送。"
        return message, self.counts(session), self.queue(ALL, "", session)

    def publish(self, ticket_id, session: StaffSession | None) -> tuple[str, list[list]]:
        """Publish an answered ticket's reply into the 答疑库; returns (status line, entries)."""
        if not _in(session):
            return NOT_LOGGED_IN, []
        try:
            entry, created = self.desk.publish(int(ticket_id))
        except (TypeError, ValueError):
            return "请输入或点选工单编号。", self.entry_rows(session)
        except PolicyQAError as exc:
            return f"未发布：{exc}", self.entry_rows(session)
        said = "已发布到答疑库" if created else "这张工单已发布过"
        return f"{said}（条目 {entry.entry_id}）。", self.entry_rows(session)

    def entry_rows(self, session: StaffSession | None) -> list[list]:
        """The 答疑库 entries, retired ones too, with their clauses by name."""
        if not _in(session):
            return []
        return [[e.entry_id, "已停用" if e.retired else "使用中", e.question, e.answer,
                 "；".join(self._clause_names(e.clause_ids)), e.unit, e.published_on] for e in self.desk.all_entries()]

    def open_entry(self, entry_id, session: StaffSession | None) -> tuple[str, str, str]:
        """An entry's question and answer, to edit; and a status line."""
        if not _in(session):
            return "", "", NOT_LOGGED_IN
        try:
            entry = self.desk.entry(int(entry_id))
        except (TypeError, ValueError):
            return "", "", "请输入或点选条目编号。"
        except PolicyQAError as exc:
            return "", "", f"无法打开：{exc}"
        return entry.question, entry.answer, ""

    def save_entry(self, entry_id, question: str, answer: str, session: StaffSession | None) -> tuple[str, list[list]]:
        """Keep an edited entry (its clauses stay)."""
        if not _in(session):
            return NOT_LOGGED_IN, []
        try:
            self.desk.edit_entry(int(entry_id), printable(question or ""), printable(answer or ""))
        except (TypeError, ValueError):
            return "请输入或点选条目编号。", self.entry_rows(session)
        except PolicyQAError as exc:
            return f"未保存：{exc}", self.entry_rows(session)
        return "条目已更新。", self.entry_rows(session)

    def retire_entry(self, entry_id, retired: bool, session: StaffSession | None) -> tuple[str, list[list]]:
        """Retire an entry (never cited again) or use it again."""
        if not _in(session):
            return NOT_LOGGED_IN, []
        try:
            self.desk.retire_entry(int(entry_id), retired)
        except (TypeError, ValueError):
            return "请输入或点选条目编号。", self.entry_rows(session)
        except PolicyQAError as exc:
            return f"未更改：{exc}", self.entry_rows(session)
        return ("条目已停用，不再被引用。" if retired else "条目已恢复使用。"), self.entry_rows(session)

    def feedback_rows(self, session: StaffSession | None) -> list[list]:
        """Feedback with the question and the answer rated, in local time, newest first."""
        if not _in(session):
            return []
        tz = self.settings.timezone
        return [[local_time(f.updated_at, tz), "赞" if f.rating > 0 else "踩", f.question, f.answer, f.comment]
                for f in self.desk.feedback.all()]

    def document_rows(self, session: StaffSession | None) -> list[list]:
        """The indexed documents (the chat page's admin listing)."""
        return self.page.document_rows() if _in(session) else []

    def reindex(self, session: StaffSession | None) -> tuple[str, list[list]]:
        """Re-index from the corpus (the chat page's admin re-index)."""
        if not _in(session):
            return NOT_LOGGED_IN, []
        return self.page.reindex(Session(admin=True))

    def upload(self, path, session: StaffSession | None) -> tuple[str, list[list]]:
        """Add a policy document (a file the browser sent): checked and screened as the API's upload is, then the
        index rebuilt; a flagged file is held for an administrator's review instead."""
        if not _in(session):
            return NOT_LOGGED_IN, []
        if not path:
            return "请先选择文件。", self.document_rows(session)
        source = Path(path)
        try:
            accepted = uploads.accept(self.settings, source.name, source.read_bytes())
        except uploads.UploadRejected as exc:
            return f"未上传：{exc}", self.document_rows(session)
        if accepted.held:
            return f"文件已暂存待审核（{'；'.join(accepted.reasons)}），审核通过前不会被索引。", self.document_rows(session)
        summary, rows = self.reindex(session)
        return f"已{'替换' if accepted.replaced else '上传'} {accepted.filename}。{summary}", rows

    def delete_document(self, filename: str, session: StaffSession | None) -> tuple[str, list[list]]:
        """Remove a document (by its file name, as the table shows it) from the corpus, then rebuild the index."""
        if not _in(session):
            return NOT_LOGGED_IN, []
        name = Path(printable(filename or "").strip()).name
        doc_id = next((found for path, found in doc_ids_for(corpus_files(self.settings.corpus_dir)).items()
                       if name and path.name == name), None)
        if doc_id is None or uploads.remove_document(self.settings.corpus_dir, doc_id) is None:
            return f"知识库中没有文件 {name or '（空）'}。", self.document_rows(session)
        summary, rows = self.reindex(session)
        return f"已删除 {name}。{summary}", rows

    def _clause_names(self, clause_ids: tuple[str, ...]) -> list[str]:
        by_id = self.page.assistant.kb.by_id
        return [by_id[c].reference if c in by_id else f"{c}（已不在知识库中）" for c in clause_ids]


def _lines(text: str) -> str:
    """Text as inert Markdown whose line breaks stay line breaks (a reply's greeting, list and sign-off)."""
    return "  \n".join(inert_markdown(line) for line in text.split("\n"))


def _in(session: StaffSession | None) -> bool:
    return bool(session and session.staff)


def build_staff_app(staff: StaffPage):
    """The desk's Gradio Blocks."""
    import gradio as gr

    with gr.Blocks(title="工作人员答疑台", analytics_enabled=False) as app:
        session = gr.State(None)
        gr.Markdown("## 工作人员答疑台")
        with gr.Row():
            token = gr.Textbox(label="工作人员口令", type="password", elem_id="staff-token", scale=3)
            enter = gr.Button("登录", elem_id="staff-enter", scale=1)
        status = gr.Markdown(elem_id="staff-status")
        counts = gr.Markdown(elem_id="staff-counts")
        with gr.Tab("工单", elem_id="staff-tab-tickets"):
            with gr.Row():
                filter_status = gr.Dropdown([ALL, *STATUS_LABELS.values()], value=ALL, label="状态",
                                            elem_id="staff-filter")
                search = gr.Textbox(label="搜索", elem_id="staff-search")
                refresh = gr.Button("刷新", elem_id="staff-refresh")
            queue = gr.Dataframe(headers=QUEUE_HEADERS, interactive=False, elem_id="staff-queue", wrap=True)
            with gr.Row():
                with gr.Column(scale=1):
                    ticket_id = gr.Number(label="工单编号", precision=0, elem_id="staff-ticket-id")
                    open_button = gr.Button("打开工单", elem_id="staff-open")
                    conversation = gr.Markdown(elem_id="staff-conversation")
                with gr.Column(scale=1):
                    draft = gr.Textbox(label="答复（可修改）", lines=16, interactive=True, elem_id="staff-draft")
                    with gr.Row():
                        save = gr.Button("保存草稿", elem_id="staff-save")
                        send = gr.Button("发送给提问人", variant="primary", elem_id="staff-send")
                        publish = gr.Button("发布到答疑库", elem_id="staff-publish")
                    ticket_status = gr.Markdown(elem_id="staff-ticket-status")
        with gr.Tab("答疑库", elem_id="staff-tab-entries"):
            entries = gr.Dataframe(headers=ENTRY_HEADERS, interactive=False, elem_id="staff-entries", wrap=True)
            entry_id = gr.Number(label="条目编号", precision=0, elem_id="staff-entry-id")
            entry_question = gr.Textbox(label="问题", lines=2, elem_id="staff-entry-question")
            entry_answer = gr.Textbox(label="答复", lines=6, elem_id="staff-entry-answer")
            with gr.Row():
                entry_save = gr.Button("保存修改", elem_id="staff-entry-save")
                entry_retire = gr.Button("停用", elem_id="staff-entry-retire")
                entry_restore = gr.Button("恢复使用", elem_id="staff-entry-restore")
            entry_status = gr.Markdown(elem_id="staff-entry-status")
        with gr.Tab("用户反馈", elem_id="staff-tab-feedback"):
            feedback = gr.Dataframe(headers=FEEDBACK_HEADERS, interactive=False, elem_id="staff-feedback", wrap=True)
        with gr.Tab("政策文件", elem_id="staff-tab-documents"):
            documents = gr.Dataframe(headers=DOCUMENT_HEADERS, interactive=False, elem_id="staff-documents")
            rebuild = gr.Button("重新建立索引", elem_id="staff-reindex")
            with gr.Row():
                upload_file = gr.File(label="上传政策文件（.txt .md .html .docx .pdf）", type="filepath",
                                      elem_id="staff-upload")
                with gr.Column():
                    delete_name = gr.Textbox(label="要删除的文件（点选表格中的行）", elem_id="staff-delete-name")
                    delete_button = gr.Button("删除该文件", variant="stop", elem_id="staff-delete")
            rebuild_status = gr.Markdown(elem_id="staff-reindex-status")

        def on_login(text, state, request):
            return staff.login(text, state, staff.page.identity.address(
                getattr(request.client, "host", None), request.headers or {}))

        on_login.__annotations__ = {"request": gr.Request}  # gradio passes the request by this annotation
        enter.click(on_login, [token, session], [session, status, counts, queue, feedback, documents, entries])

        def on_refresh(state, wanted, text):
            return staff.counts(state), staff.queue(wanted, text, state), staff.feedback_rows(state)

        refresh.click(on_refresh, [session, filter_status, search], [counts, queue, feedback])
        search.submit(on_refresh, [session, filter_status, search], [counts, queue, feedback])
        filter_status.change(on_refresh, [session, filter_status, search], [counts, queue, feedback])

        queue.select(_opening(staff.open_ticket), [session], [ticket_id, conversation, draft, ticket_status])
        open_button.click(staff.open_ticket, [ticket_id, session], [conversation, draft, ticket_status])
        save.click(staff.save_draft, [ticket_id, draft, session], [ticket_status])

        def on_send(number, text, state):
            message, shown_counts, rows = staff.send(number, text, state)
            opened = staff.open_ticket(number, state)[0] if state and state.staff else ""
            return message, shown_counts, rows, opened

        send.click(on_send, [ticket_id, draft, session], [ticket_status, counts, queue, conversation])
        rebuild.click(staff.reindex, [session], [rebuild_status, documents])
        publish.click(staff.publish, [ticket_id, session], [ticket_status, entries])
        upload_file.upload(staff.upload, [upload_file, session], [rebuild_status, documents])

        def on_document(event):
            row = event.row_value if event is not None else None
            return row[-1] if row else ""

        on_document.__annotations__ = {"event": gr.SelectData}
        documents.select(on_document, None, [delete_name])
        delete_button.click(staff.delete_document, [delete_name, session], [rebuild_status, documents])

        entries.select(_opening(staff.open_entry), [session], [entry_id, entry_question, entry_answer, entry_status])
        entry_save.click(staff.save_entry, [entry_id, entry_question, entry_answer, session], [entry_status, entries])
        entry_retire.click(lambda number, state: staff.retire_entry(number, True, state), [entry_id, session],
                           [entry_status, entries])
        entry_restore.click(lambda number, state: staff.retire_entry(number, False, state), [entry_id, session],
                            [entry_status, entries])
    return app


def _opening(open_row):
    """A table's select handler: the clicked row's number (its first column) and what ``open_row`` shows of it."""
    import gradio as gr

    def on_select(state, event):
        row = event.row_value if event is not None else None
        number = row[0] if row else None
        return (number, *open_row(number, state))

    on_select.__annotations__ = {"event": gr.SelectData}  # Gradio passes the event by this annotation
    return on_select
