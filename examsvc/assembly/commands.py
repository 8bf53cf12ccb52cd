"""``examsvc assemble``: papers from a bank file and a blueprint file, offline (no database)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
import yaml

from ..bank.model import BankFormatError
from ..catalog.scheme_rules import Scheme, SchemeError, parse_scheme
from ..catalog.standards import Standard, StandardError, load_standards
from ..cli import _fail, _read_any, _standards_root
from ..yaml_text import safe_load
from .blueprint import Blueprint, BlueprintError, parse_blueprint, validate_blueprint
from .engine import AssemblyError, PlanResult, assemble
from .feasibility import Feasibility, check_feasibility
from .pool import Candidate, pool_digest, pool_from_items

BANK = click.option(
    "--bank",
    "bank_path",
    type=click.Path(exists=True, path_type=Path),
    help="A bank directory (with bank.yaml) or an .xlsx workbook.",
)
BLUEPRINT = click.option(
    "--blueprint",
    "blueprint_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Blueprint YAML file (see question_banks/blueprints/).",
)


def _scheme_for(root: Path, blueprint: Blueprint) -> Scheme | None:
    for path in sorted((root / "schemes").glob("*.yaml")):
        try:
            scheme = parse_scheme(safe_load(path.read_text(encoding="utf-8")), str(path))
        except (SchemeError, yaml.YAMLError):
            continue
        if scheme.certificate == blueprint.certificate and blueprint.level in scheme.levels:
            return scheme
    return None


def load_inputs(bank_path: Path, blueprint_path: Path) -> tuple[Blueprint, list[Candidate]]:
    """Read and check the blueprint and the bank; exit with every problem found otherwise."""
    root = _standards_root(bank_path)
    try:
        raw = safe_load(blueprint_path.read_text(encoding="utf-8"))
        blueprint = parse_blueprint(raw, str(blueprint_path))
        standards: dict[tuple[str, str], Standard] = load_standards(root / "standards")
        banks = _read_any(bank_path)
    except yaml.YAMLError as exc:
        _fail(f"{blueprint_path}：不是有效的 YAML：{exc}")
    except BlueprintError as exc:
        _fail("\n".join(exc.problems))
    except (StandardError, BankFormatError) as exc:
        _fail(str(exc))
    standard = standards.get((blueprint.certificate, blueprint.level))
    problems = validate_blueprint(blueprint, _scheme_for(root, blueprint), standard)
    for bank in banks:
        if (bank.certificate, bank.level) != (blueprint.certificate, blueprint.level):
            problems.append(
                f"{bank_path}：题库属于 {bank.certificate}/{bank.level}，"
                f"细目表属于 {blueprint.certificate}/{blueprint.level}"
            )
    if problems:
        _fail("\n".join(f"{blueprint_path}：{p}" for p in problems))
    pool = [c for bank in banks for c in pool_from_items(bank.items, standard)]
    return blueprint, pool


def _print_report(report: Feasibility) -> None:
    for s in report.supply:
        click.echo(
            f"  {s.part} · {s.section}：已审核 {s.available} 道，每份需要 {s.needed} 道（{s.ratio:.1f} 倍）"
        )
    for w in report.warnings:
        click.secho(f"提示：{w}", fg="yellow")
    for p in report.problems:
        click.secho(f"不可行：{p}", fg="red")
    if report.trial is not None:
        _print_stats(report.trial)


def _print_stats(result: PlanResult) -> None:
    for part in result.parts:
        click.echo(
            f"  {part.kind}：平均难度 {part.difficulty_min:.2f}–{part.difficulty_max:.2f}"
            f"（极差 {part.difficulty_spread:.2f}），最高曝光率 {part.max_exposure:.0%}"
            f"（上限每题 {part.exposure_cap} 份），用到 {part.items_used}/{part.pool} 道题"
        )


def papers_json(blueprint: Blueprint, pool: list[Candidate], result: PlanResult) -> dict[str, Any]:
    return {
        "engine_version": result.engine_version,
        "seed": result.seed,
        "blueprint": blueprint.name,
        "pool_digest": pool_digest(pool),
        "duplicates": result.duplicates,
        "stats": [
            {
                "part": p.kind,
                "difficulty_min": round(p.difficulty_min, 4),
                "difficulty_max": round(p.difficulty_max, 4),
                "max_exposure": round(p.max_exposure, 4),
                "exposure_cap": p.exposure_cap,
            }
            for p in result.parts
        ],
        "papers": [
            {
                "number": paper.number,
                "parts": [
                    {
                        "kind": part.kind,
                        "difficulty": round(part.difficulty, 4),
                        "items": [
                            {
                                "item": i.item,
                                "version": i.version,
                                "type": i.type,
                                "points": str(i.points),
                                "options": i.options,
                            }
                            for i in part.items
                        ],
                    }
                    for part in paper.parts
                ],
            }
            for paper in result.papers
        ],
    }


@click.group(invoke_without_command=True)
@BANK
@BLUEPRINT
@click.option("--count", type=click.IntRange(1, 100_000), default=1, show_default=True)
@click.option("--seed", default="0", show_default=True, help="Same inputs and seed, same papers.")
@click.option(
    "--out", type=click.Path(dir_okay=False, path_type=Path), help="Write papers.json here."
)
@click.pass_context
def assemble_command(
    ctx: click.Context,
    bank_path: Path | None,
    blueprint_path: Path | None,
    count: int,
    seed: str,
    out: Path | None,
) -> None:
    """Assemble COUNT papers from a bank (YAML or xlsx) and a blueprint, without a database."""
    if ctx.invoked_subcommand is not None:
        return
    if bank_path is None or blueprint_path is None or out is None:
        raise click.UsageError("需要 --bank、--blueprint 和 --out（或用子命令 check 只检查可行性）")
    blueprint, pool = load_inputs(bank_path, blueprint_path)
    try:
        result = assemble(blueprint, pool, count, seed)
    except AssemblyError as exc:
        _fail("\n".join(exc.problems) + "\n没有生成试卷。")
    out.write_text(
        json.dumps(papers_json(blueprint, pool, result), ensure_ascii=False, indent=1),
        encoding="utf-8",
    )
    click.echo(f"已生成 {count} 份试卷 → {out}（种子 {seed}，引擎版本 {result.engine_version}）")
    _print_stats(result)


@assemble_command.command("check")
@BANK
@BLUEPRINT
@click.option("--count", type=click.IntRange(1, 100_000), default=30, show_default=True)
def assemble_check(bank_path: Path | None, blueprint_path: Path | None, count: int) -> None:
    """Say whether the bank can meet the blueprint for COUNT papers, and if not, why."""
    if bank_path is None or blueprint_path is None:
        raise click.UsageError("需要 --bank 和 --blueprint")
    blueprint, pool = load_inputs(bank_path, blueprint_path)
    report = check_feasibility(blueprint, pool, count)
    _print_report(report)
    if not report.ok:
        _fail(f"不可行：{len(report.problems)} 个问题，见上。")
    click.echo(f"可行：{count} 份试卷都能满足细目表。")
