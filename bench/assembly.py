"""Benchmark: blueprint-constrained assembly against naive random-per-type sampling.

Run ``python -m bench.assembly``. For each synthetic bank size it assembles the same number of
papers twice, with the engine and with the naive draw most peers use (each section sampled at
random from its type), checks both with the one independent checker, and prints one JSON line.
With ``--repeat N`` the engine runs N times and the fastest run is reported: on a machine shared
with other work, the fastest run is the one least disturbed by it.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from collections import Counter
from collections.abc import Sequence

from examsvc.assembly.blueprint import Blueprint
from examsvc.assembly.engine import Paper, PaperItem, PaperPart, assemble
from examsvc.assembly.pool import Candidate
from examsvc.assembly.verify import plan_violations

from .synthetic import synthetic_blueprint, synthetic_pool


def naive(blueprint: Blueprint, pool: Sequence[Candidate], count: int, seed: int) -> list[Paper]:
    """What Moodle-style random slots do: per section, a uniform sample of the type's pool."""
    rng = random.Random(seed)
    by_type: dict[str, list[Candidate]] = {}
    for c in pool:
        by_type.setdefault(c.type, []).append(c)
    papers = []
    for number in range(1, count + 1):
        parts = []
        for part in blueprint.parts:
            items = []
            for s in part.sections:
                n = rng.randint(s.count_min, s.count_max)
                for c in rng.sample(by_type[s.type], n):
                    points = s.points_for(c.points)
                    items.append(PaperItem(c.item, c.version, c.type, points, c.difficulty))
            parts.append(PaperPart(part.kind, part.name, tuple(items)))
        papers.append(Paper(number, tuple(parts)))
    return papers


def figures(
    blueprint: Blueprint, pool: Sequence[Candidate], papers: Sequence[Paper], seconds: float
) -> dict[str, object]:
    broken = {n for n, _ in plan_violations(blueprint, pool, papers)}
    spreads = []
    exposures = []
    for k in range(len(blueprint.parts)):
        means = [p.parts[k].difficulty for p in papers]
        spreads.append(max(means) - min(means))
        uses = Counter(i.item for p in papers for i in p.parts[k].items)
        exposures.append(max(uses.values()) / len(papers))
    return {
        "papers_per_s": round(len(papers) / seconds, 1),
        # papers breaking a rule, plus one when some item exceeds its exposure cap
        "violations": len(broken),
        "difficulty_spread": round(max(spreads), 4),
        "theory_difficulty_spread": round(spreads[0], 4),
        "max_exposure": round(max(exposures[0:1]), 4),
        "distinct_papers": len({tuple(sorted(i.item for i in p.parts[0].items)) for p in papers}),
    }


def run(size: int, count: int, seed: int, repeat: int = 1) -> dict[str, object]:
    pool = synthetic_pool(size, seed)
    blueprint = synthetic_blueprint()
    wall, cpu = [], []
    for _ in range(max(1, repeat)):
        start, start_cpu = time.perf_counter(), time.process_time()
        result = assemble(blueprint, pool, count, seed)
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    engine_s = min(wall)
    start = time.perf_counter()
    baseline = naive(blueprint, pool, count, seed)
    naive_s = time.perf_counter() - start
    line: dict[str, object] = {"bank_items": size, "papers": count}
    line |= figures(blueprint, pool, result.papers, engine_s)
    line["seconds"] = round(engine_s, 3)
    # CPU time of this process alone: what "on one core" means, whatever else the machine runs
    line["cpu_seconds"] = round(min(cpu), 3)
    line["naive"] = figures(blueprint, pool, baseline, naive_s) | {"seconds": round(naive_s, 4)}
    # the same machine, the same run: how many times the naive draw's time the engine takes
    line["time_vs_naive"] = round(engine_s / naive_s, 1)
    return line


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="500,3000,20000")
    parser.add_argument("--papers", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--repeat", type=int, default=1, help="engine runs; the fastest counts")
    args = parser.parse_args()
    for size in (int(s) for s in args.sizes.split(",")):
        line = run(size, args.papers, args.seed, args.repeat)
        print(json.dumps(line, ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main()
