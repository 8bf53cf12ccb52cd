"""Synthetic banks and blueprints for benchmarks and tests: realistic shapes, no real content."""

from __future__ import annotations

import random
from decimal import Decimal

from examsvc.assembly.blueprint import (
    Blueprint,
    Coverage,
    Difficulty,
    PartBlueprint,
    SectionSpec,
)
from examsvc.assembly.pool import Candidate

FIELDS = 4
TASKS_PER_FIELD = 3
SKILLS_PER_TASK = 3
# share of each type in a bank, and the difficulty profile most banks show (few very easy/hard)
TYPE_SHARES = (("single", 0.60), ("multiple", 0.25), ("truefalse", 0.12), ("practical", 0.03))
DIFFICULTY_WEIGHTS = (0.10, 0.25, 0.30, 0.25, 0.10)
PRACTICAL_POINTS = (20, 25, 30, 35, 40)
TASK_KINDS = ("web_page", "coding", "case_analysis")


def skill_codes() -> list[tuple[str, str]]:
    """(work field name, skill code) for the synthetic standard."""
    return [
        (f"领域{f}", f"{f}-{t}-{s}")
        for f in range(1, FIELDS + 1)
        for t in range(1, TASKS_PER_FIELD + 1)
        for s in range(1, SKILLS_PER_TASK + 1)
    ]


def synthetic_pool(size: int, seed: int = 7) -> list[Candidate]:
    rng = random.Random(seed)
    skills = skill_codes()
    pool = []
    for n in range(size):
        type_ = rng.choices([t for t, _ in TYPE_SHARES], [w for _, w in TYPE_SHARES])[0]
        covers: set[str] = set()
        for field, code in rng.sample(skills, rng.choice((1, 1, 2))):
            task = code.rsplit("-", 1)[0]
            covers |= {f"field:{field}", f"code:{task}", f"code:{code}"}
        points = None
        if type_ == "practical":
            covers.add(f"task_kind:{rng.choice(TASK_KINDS)}")
            points = Decimal(rng.choice(PRACTICAL_POINTS))
        pool.append(
            Candidate(
                item=f"SYN-{n:05d}",
                version=1,
                type=type_,
                difficulty=rng.choices(range(1, 6), DIFFICULTY_WEIGHTS)[0],
                covers=frozenset(covers),
                points=points,
                options=("A", "B", "C", "D") if type_ in ("single", "multiple") else (),
            )
        )
    return pool


def synthetic_blueprint(max_exposure: str = "0.3") -> Blueprint:
    """The 30/15/5 theory scheme and 3–5 practical items, with the coverage a real 细目表 sets."""
    fields = [
        Coverage("field", f"领域{f}", min_share=Decimal("0.15"), max_share=Decimal("0.40"))
        for f in range(1, FIELDS + 1)
    ]
    skills = [Coverage("code", f"{f}-1", min_count=2) for f in range(1, FIELDS + 1)]
    theory = PartBlueprint(
        kind="theory",
        name="理论考试",
        total_points=Decimal(100),
        sections=(
            SectionSpec("single", 30, 30, Decimal(2)),
            SectionSpec("multiple", 15, 15, Decimal(2)),
            SectionSpec("truefalse", 5, 5, Decimal(2)),
        ),
        coverage=(*fields, *skills, Coverage("code", "1-1-1", type="multiple", max_count=3)),
        difficulty=Difficulty(Decimal(3), Decimal("0.2")),
        max_exposure=Decimal(max_exposure),
    )
    practical = PartBlueprint(
        kind="practical",
        name="实操考试",
        total_points=Decimal(100),
        sections=(SectionSpec("practical", 3, 5, None),),
        coverage=(Coverage("task_kind", "web_page", min_count=1),),
        max_exposure=Decimal("0.5"),
        shuffle_options=False,
    )
    return Blueprint("基准细目表", "synthetic", "junior", (theory, practical))
