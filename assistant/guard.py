"""Questions the assistant must decline before retrieving: instructions to ignore its rules or reveal its
prompt, chit-chat and requests outside policy Q&A, and questions not written in Chinese (the knowledge base and
its answers are Chinese; an English question would only be "not found"). Whether the knowledge base *supports* an answer is
decided after retrieval (see ``support``)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from assistant.retrieval.lexical import normalize
from core.textnorm import has_cjk

_INJECTION = re.compile(
    r"(忽略|无视|忘记|忘掉|不要理会|跳过|绕过|覆盖).{0,12}(指令|指示|规则|设定|要求|提示|限制|约束|身份)"
    r"|(系统|原始|初始|隐藏|内部)(提示|提示词|指令|prompt)|提示词|你的(指令|设定|规则|提示)"
    r"|(输出|打印|显示|告诉我|泄露|重复).{0,10}(prompt|指令|设定|规则|上面的话|以上内容)"
    r"|ignore (all |any )?(the )?(previous|prior|above|earlier)|system prompt|jailbreak|developer mode|\bdan\b"
    r"|(扮演|假装|假设你是).{0,10}(没有|不受|无).{0,6}(限制|约束)|越狱|开发者模式",
    re.IGNORECASE,
)
_CHITCHAT = re.compile(
    r"^(你好|您好|嗨|hi|hello|hey|在吗|在不在|谢谢|多谢|感谢|再见|拜拜|早上好|晚上好|你是谁|你叫什么.*|你能做什么|哈+|嗯+|好的|ok)[\s!！。.?？~～]*$"
    r"|(写|编|创作).{0,12}(诗|歌词|故事|笑话|小说|对联|作文)|讲.{0,3}(笑话|故事)|天气|气温|下雨|彩票|股票.{0,4}(涨|跌|推荐)|星座|算命",
    re.IGNORECASE,
)

_LATIN_WORD = re.compile(r"[a-z]{2,}")


@dataclass(frozen=True)
class Verdict:
    """Why a question is declined before retrieval (``reason`` empty: go ahead)."""

    reason: str = ""

    @property
    def declined(self) -> bool:
        """Whether the question is declined."""
        return bool(self.reason)


def screen(question: str) -> Verdict:
    """Decline prompt injection, chit-chat and questions with Latin words but no Chinese character; let policy
    questions through (a mixed one such as "Jilin 省的 patent insurance 补几年?" too)."""
    text = normalize(question)
    if _INJECTION.search(text):
        return Verdict("injection")
    if _CHITCHAT.search(text.strip()):
        return Verdict("chitchat")
    if not has_cjk(text) and _LATIN_WORD.search(text):
        return Verdict("not_chinese")
    return Verdict()
