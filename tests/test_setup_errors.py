"""Setup mistakes give one clear line on stderr and exit code 2 from both command lines, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT

POLICY = "关于支持中小企业发展的通知\n一、对首次认定的企业最高补助35万元。\n"


@pytest.fixture
def setup(tmp_path, monkeypatch):
    """A small valid corpus and data folder, as environment variables; each test breaks one thing."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text(POLICY, encoding="utf-8")
    monkeypatch.setenv("POLICYQA_CORPUS_DIR", str(corpus))
    monkeypatch.setenv("POLICYQA_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("POLICYQA_TODAY", raising=False)
    return tmp_path


def data_dir_is_a_file(tmp_path, monkeypatch):
    (tmp_path / "a-file").write_text("not a folder", encoding="utf-8")
    monkeypatch.setenv("POLICYQA_DATA_DIR", str(tmp_path / "a-file"))
    return "POLICYQA_DATA_DIR"


def corpus_dir_missing(tmp_path, monkeypatch):
    monkeypatch.setenv("POLICYQA_CORPUS_DIR", str(tmp_path / "no-such-corpus"))
    return "no-such-corpus"


def today_not_a_date(tmp_path, monkeypatch):
    monkeypatch.setenv("POLICYQA_TODAY", "not-a-date")
    return "POLICYQA_TODAY"


def catalog_date_invalid(tmp_path, monkeypatch):
    catalog = "documents:\n  a.txt:\n    issued_date: 2022-13-45\n"
    (tmp_path / "corpus" / "catalog.yaml").write_text(catalog, encoding="utf-8")
    return "issued_date"


def run_main(module: str, argv: list[str]) -> int:
    if module == "index":
        from index.__main__ import main
    else:
        from assistant.__main__ import main
    return main(argv)


@pytest.mark.parametrize(
    ("module", "argv", "mistake"),
    [
        ("index", ["build", "--quiet"], data_dir_is_a_file),
        ("index", ["build", "--quiet"], corpus_dir_missing),
        ("index", ["build", "--quiet"], today_not_a_date),
        ("index", ["build", "--quiet"], catalog_date_invalid),
        ("assistant", ["ask", "补助多少?"], data_dir_is_a_file),
        ("assistant", ["ask", "补助多少?"], today_not_a_date),
    ],
)
def test_a_setup_mistake_is_one_line_on_stderr_and_exit_code_2(setup, monkeypatch, capsys, module, argv, mistake):
    named = mistake(setup, monkeypatch)
    assert run_main(module, argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err and named in err, err


@pytest.mark.parametrize("module", ["index", "assistant"])
def test_the_command_line_prints_no_traceback_for_a_bad_setting(tmp_path, module):
    env = os.environ | {"POLICYQA_TODAY": "not-a-date", "POLICYQA_DATA_DIR": str(tmp_path / "data")}
    args = ["build", "--quiet"] if module == "index" else ["ask", "补助多少?"]
    result = subprocess.run([sys.executable, "-m", module, *args], cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert "POLICYQA_TODAY" in result.stderr


def test_the_chat_page_reports_a_bad_setting_in_one_line(monkeypatch, capsys):
    import ui

    monkeypatch.setenv("POLICYQA_TODAY", "not-a-date")
    assert ui.main() == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and "POLICYQA_TODAY" in err and "Traceback" not in err


def test_a_list_setting_takes_a_plain_comma_separated_value(monkeypatch):
    from core.settings import load_settings

    monkeypatch.setenv("POLICYQA_CORS_ORIGINS", "https://www.example.gov.cn, https://portal.example.gov.cn")
    monkeypatch.setenv("POLICYQA_TRUSTED_PROXIES", "10.0.0.1")
    settings = load_settings()
    assert settings.cors_origins == ["https://www.example.gov.cn", "https://portal.example.gov.cn"]
    assert settings.trusted_proxies == ["10.0.0.1"]
    monkeypatch.setenv("POLICYQA_CORS_ORIGINS", '["https://www.example.gov.cn"]')  # the JSON list still works
    assert load_settings().cors_origins == ["https://www.example.gov.cn"]


@pytest.mark.parametrize(("variable", "value"), [
    ("POLICYQA_CORS_ORIGINS", '["https://www.example.gov.cn"'),
    ("POLICYQA_TRUSTED_PROXIES", "proxy.example"),
    ("POLICYQA_API_KEYS", '["unclosed-secret-key"'),
])
def test_a_bad_list_setting_stops_the_service_in_one_line(monkeypatch, capsys, variable, value):
    import uvicorn

    import ui

    monkeypatch.setenv(variable, value)
    monkeypatch.setattr("serve.factory.make_app", lambda settings: None)  # never serve, whatever happens
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: None)
    assert ui.main() == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and variable in err and "\n" not in err
    assert "unclosed-secret-key" not in err  # an API key is never printed


def test_a_damaged_database_file_at_start_is_one_line(setup, monkeypatch, capsys):
    import ui

    data = setup / "data"
    data.mkdir()
    (data / "feedback.sqlite").write_bytes(b"this is not a database file at all" * 200)
    assert ui.main() == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: the database") and "\n" not in err and "not a database" in err
