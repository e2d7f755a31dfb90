"""Screening an uploaded document's text before it is served: what no policy document needs to say to the
assistant or to the enterprises it answers. A flagged upload is held for an administrator's review
(``serve.uploads``), never indexed until approved. Pure functions over the text, tested with a table of cases."""

from __future__ import annotations

import re
from dataclasses import dataclass

# Instructions addressed to an assistant or a language model, not to enterprises.
_INSTRUCTIONS = re.compile(
    r"(忽略|无视|忘记|忘掉|不要理会|跳过)(掉)?(你|您)?(之前|以前|先前|此前|前面|上面|以上|上述|所有|全部|一切)?的?"
    r"(所有|全部|一切)?的?(指令|指示|提示词?|规则|设定|要求|约束)"
    r"|(请|你|您)(现在)?(必须|只能|应当|要)?(回答|回复|输出|扮演|假装)[:：]"
    r"|(系统|system)\s*(提示|prompt)|(作为|你是)(一个)?(AI|人工智能|语言模型|智能助手|聊天机器人)"
    r"|ignore\s+(all\s+)?(the\s+)?(previous|prior|above)\s+(instructions|prompts?)|system\s+prompt"
    r"|\b(you\s+are\s+now|act\s+as|pretend\s+to\s+be)\b",
    re.IGNORECASE,
)
_LINK = re.compile(r"(?:https?|ftp)://[^\s，。；、）)]+|www\.[A-Za-z0-9-]+\.[A-Za-z]{2,}[^\s，。；、）)]*", re.IGNORECASE)
# Asking for what no government department asks an enterprise to send: passwords, card numbers, codes.
_SECRETS = r"(密码|口令|银行卡号?|卡号|信用卡|验证码|CVV|支付密码|网银|U盾)"
_SEND = r"(发送|发至|发到|发给|提供|告知|填写|提交|上传|转账|汇款|回复)"
_CONTACT_FOR_SECRETS = re.compile(rf"{_SEND}[^。！？\n]{{0,30}}{_SECRETS}|{_SECRETS}[^。！？\n]{{0,30}}{_SEND}",
                                  re.IGNORECASE)
_SENTENCE = re.compile(r"[^。！？!?\n]{12,}[。！？!?；;]")


@dataclass(frozen=True)
class Flag:
    """Why a document is held: a short reason and the words that raised it."""

    reason: str
    evidence: str

    def __str__(self) -> str:
        return f"{self.reason}：“{self.evidence}”"


def screen(text: str) -> list[Flag]:
    """The reasons to hold this document for review (empty: nothing found)."""
    flags = []
    if found := _INSTRUCTIONS.search(text):
        flags.append(Flag("对问答助手的指令", _around(text, found)))
    if found := _CONTACT_FOR_SECRETS.search(text):
        flags.append(Flag("索要密码、银行卡号或验证码", _around(text, found)))
    if found := _LINK.search(text):
        flags.append(Flag("网址链接", found.group(0)[:80]))
    if navigation_only(text):
        flags.append(Flag("只有网站导航、没有政策正文", text.strip()[:40]))
    return flags


def navigation_only(text: str) -> bool:
    """Whether the text is a page of navigation (menus, short link labels) with no sentence of policy prose."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        return True
    prose = sum(len(match.group(0)) for match in _SENTENCE.finditer(text))
    return prose < 20 or prose < 0.1 * sum(len(line) for line in lines)


def _around(text: str, found: re.Match, margin: int = 12) -> str:
    start, end = max(0, found.start() - margin), min(len(text), found.end() + margin)
    return text[start:end].replace("\n", " ").strip()
