"""``examsvc assemble`` works offline on YAML and xlsx banks, and ``check`` explains refusals."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner, Result

from examsvc.assembly.commands import assemble_command
from examsvc.bank.xlsx_format import write_workbook
from examsvc.bank.yaml_format import read_bank_dir

BANKS = Path(__file__).resolve().parents[2] / "question_banks"
WEB = BANKS / "web-frontend-junior"
BLUEPRINT = BANKS / "blueprints" / "web-frontend-junior.yaml"


@pytest.fixture(autouse=True)
def _no_database(monkeypatch: pytest.MonkeyPatch) -> None:
    """A database URL nobody listens on: the commands must not need one."""
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:9/none")


def _run(*args: str | Path) -> Result:
    from examsvc import create_app

    app = create_app({"QUESTION_BANKS_DIR": BANKS})
    with app.app_context():
        return CliRunner().invoke(assemble_command, [str(a) for a in args], catch_exceptions=False)


def test_assemble_writes_reproducible_papers(tmp_path: Path) -> None:
    out1, out2 = tmp_path / "a.json", tmp_path / "b.json"
    args = ("--bank", WEB, "--blueprint", BLUEPRINT, "--count", "12", "--seed", "exam-2026")
    first = _run(*args, "--out", out1)
    assert first.exit_code == 0, first.output
    assert "已生成 12 份试卷" in first.output
    assert _run(*args, "--out", out2).exit_code == 0
    assert out1.read_bytes() == out2.read_bytes()
    papers = json.loads(out1.read_text(encoding="utf-8"))
    assert papers["seed"] == "exam-2026" and papers["engine_version"] == "1"
    assert len(papers["papers"]) == 12
    theory = papers["papers"][0]["parts"][0]["items"]
    assert [i["type"] for i in theory] == ["single"] * 30 + ["multiple"] * 15 + ["truefalse"] * 5
    assert "answer" not in json.dumps(papers)


def test_an_xlsx_bank_gives_the_same_papers_as_its_yaml(tmp_path: Path) -> None:
    bank, _ = read_bank_dir(WEB, BANKS)
    workbook = tmp_path / "web.xlsx"
    workbook.write_bytes(write_workbook(bank))
    for item_id, files in bank.files.items():  # materials sit beside the workbook, as exported
        for name, content in files.items():
            target = tmp_path / "web.files" / item_id / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
    shutil.copytree(BANKS / "standards", tmp_path / "standards")
    shutil.copytree(BANKS / "schemes", tmp_path / "schemes")
    args = ("--blueprint", BLUEPRINT, "--count", "5", "--seed", "1")
    assert _run("--bank", WEB, *args, "--out", tmp_path / "y.json").exit_code == 0
    result = _run("--bank", workbook, *args, "--out", tmp_path / "x.json")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "x.json").read_bytes() == (tmp_path / "y.json").read_bytes()


def test_check_reports_feasibility_and_supply() -> None:
    result = _run("check", "--bank", WEB, "--blueprint", BLUEPRINT, "--count", "30")
    assert result.exit_code == 0, result.output
    assert "理论考试 · 单选：已审核 149 道，每份需要 30 道（5.0 倍）" in result.output
    assert "可行：30 份试卷都能满足细目表。" in result.output


def test_check_names_the_failing_constraint_and_exits_non_zero(tmp_path: Path) -> None:
    data = yaml.safe_load(BLUEPRINT.read_text(encoding="utf-8"))
    data["parts"][0]["coverage"].append({"code": "1-2-1", "type": "multiple", "min": 9})
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    result = _run("check", "--bank", WEB, "--blueprint", bad)
    assert result.exit_code == 1
    assert "多选 · 技能 1-2-1：至少需要 9 道，已审核的只有 4 道" in result.output


def test_a_blueprint_that_breaks_the_scheme_generates_nothing(tmp_path: Path) -> None:
    data = yaml.safe_load(BLUEPRINT.read_text(encoding="utf-8"))
    data["parts"][0]["sections"][0]["count"] = 25
    data["parts"][0]["sections"][0]["points_each"] = 2.4
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    out = tmp_path / "papers.json"
    result = _run("--bank", WEB, "--blueprint", bad, "--out", out)
    assert result.exit_code == 1
    assert "单选：题量 25–25 超出考核方案规定的 30–30" in result.output
    assert not out.exists()


def test_missing_options_are_a_usage_error() -> None:
    result = _run("--bank", WEB)
    assert result.exit_code == 2
    assert "需要 --bank、--blueprint 和 --out" in result.output
