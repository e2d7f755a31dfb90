"""Each supported format through its real library; bad files give a clear DocumentError."""

from __future__ import annotations

import pytest

from core.errors import DocumentError
from index.loaders import corpus_files, load

POLICY = "第一条 为了支持中小企业发展，制定本办法。"


def test_html_gives_visible_text_without_scripts_and_chrome(tmp_path):
    page = tmp_path / "p.html"
    page.write_text(
        "<html><head><script>var x='广告';</script><style>p{}</style></head><body><nav>首页 | 登录</nav>"
        f"<div><p>{POLICY}</p><p>第二条 本办法自发布之日起施行。</p></div><footer>版权所有</footer></body></html>",
        encoding="utf-8",
    )
    text = load(page)
    assert POLICY in text and "第二条" in text
    assert "广告" not in text and "登录" not in text and "版权所有" not in text
    assert text.index("第一条") < text.index("第二条")


def test_gb18030_text_is_decoded(tmp_path):
    path = tmp_path / "gbk.txt"
    path.write_bytes(POLICY.encode("gb18030"))
    assert load(path) == POLICY


def test_docx_paragraphs_and_tables(tmp_path):
    import docx

    document = docx.Document()
    document.add_paragraph(POLICY)
    table = document.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text = "补贴标准"
    table.rows[0].cells[1].text = "50万元"
    path = tmp_path / "policy.docx"
    document.save(str(path))
    text = load(path)
    assert POLICY in text and "补贴标准 50万元" in text


def test_pdf_text_layer(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure = plt.figure()
    figure.text(0.1, 0.5, "Article 1 Subsidy of 500000 yuan for small enterprises.")
    path = tmp_path / "policy.pdf"
    figure.savefig(path)
    plt.close(figure)
    assert "Subsidy of 500000 yuan" in load(path)


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("empty.txt", b"", "empty"),
        ("blank.md", b"   \n\n ", "empty"),
        ("binary.txt", bytes(range(256)) * 8, "binary"),
        ("corrupt.docx", b"PK\x03\x04 this is not a zip archive", "docx"),
        ("corrupt.pdf", b"%PDF-1.7\n garbage without objects", "PDF"),
        ("policy.xls", b"whatever", "unsupported"),
    ],
)
def test_bad_files_raise_a_clear_error(tmp_path, name, content, reason):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(DocumentError) as caught:
        load(path)
    assert reason.lower() in str(caught.value).lower() and name in str(caught.value)


def test_catalog_and_hidden_files_are_not_documents(tmp_path):
    for name in ("a.txt", "b.html", "catalog.yaml", ".hidden.txt", "notes.xlsx"):
        (tmp_path / name).write_text("x", encoding="utf-8")
    assert [p.name for p in corpus_files(tmp_path)] == ["a.txt", "b.html"]
