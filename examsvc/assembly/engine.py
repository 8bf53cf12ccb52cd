"""The assembly engine: approved item versions + blueprint + seed → papers (pure, deterministic).

For each paper and each part, sections are first filled from a per-section deck (a shuffled
pass over the pool, reshuffled when used up), which spreads exposure evenly; then a repair
search swaps, adds or removes items until every hard constraint holds (counts, coverage,
points, difficulty band, exposure cap) and the part's mean difficulty sits as close as the
items allow to one target shared by all papers. Papers identical to an earlier one are drawn
again. ``docs/assembly.md`` explains why this and not an integer program.
"""

from __future__ import annotations

import functools
import itertools
import math
import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import NamedTuple

from .blueprint import Blueprint, Coverage, PartBlueprint
from .pool import Candidate

ENGINE_VERSION = "1"
SHUFFLED_TYPES = ("single", "multiple")
_SAMPLE = 6  # candidate moves looked at per repair step, each side
_REDRAWS = 6  # attempts at a paper different from all earlier ones


class AssemblyError(ValueError):
    """No paper meets the blueprint; ``problems`` names each constraint left unmet."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class PaperItem(NamedTuple):
    """One item of a paper (a named tuple: plans create tens of thousands of them)."""

    item: str
    version: int
    type: str
    points: Decimal
    difficulty: int
    options: str = ""  # original option keys in the order shown, e.g. "CADB"; "" keeps no order


@dataclass(frozen=True)
class PaperPart:
    kind: str
    name: str
    items: tuple[PaperItem, ...]

    @property
    def points(self) -> Decimal:
        return sum((i.points for i in self.items), Decimal(0))

    @property
    def difficulty(self) -> float:
        """Points-weighted mean difficulty (1–5)."""
        total = self.points
        return float(sum(i.points * i.difficulty for i in self.items) / total) if total else 0.0


@dataclass(frozen=True)
class Paper:
    number: int  # 1-based within its plan
    parts: tuple[PaperPart, ...]

    def key(self) -> tuple[tuple[str, ...], ...]:
        """What makes two papers the same: the same items in each part, in any order."""
        return tuple(tuple(sorted(i.item for i in p.items)) for p in self.parts)


@dataclass(frozen=True)
class PartStats:
    kind: str
    difficulty_min: float
    difficulty_max: float
    max_exposure: float  # the largest share of papers any one item appears in
    exposure_cap: int  # papers an item may appear in
    items_used: int
    pool: int

    @property
    def difficulty_spread(self) -> float:
        return self.difficulty_max - self.difficulty_min


@dataclass(frozen=True)
class PlanResult:
    seed: str
    engine_version: str
    papers: tuple[Paper, ...]
    parts: tuple[PartStats, ...]
    duplicates: int  # papers equal to an earlier one, because the bank allows no more

    @property
    def difficulty_spread(self) -> float:
        return max((p.difficulty_spread for p in self.parts), default=0.0)


def exposure_cap(max_exposure: Decimal, count: int) -> int:
    """Papers one item may appear in: the share of the plan, but at least one."""
    return max(1, math.floor(max_exposure * count))


@dataclass
class _Constraint:
    coverage: Coverage
    share: bool  # bounds are on points (hundredths) rather than on counts
    lo: int
    hi: int

    def gap(self, total: int) -> int:
        """How far ``total`` lies outside the bounds, in items or in hundredths of a point."""
        if total < self.lo:
            return self.lo - total
        if total > self.hi:
            return total - self.hi
        return 0


class _PartModel:
    """One blueprint part compiled against its pool into flat integer arrays."""

    def __init__(self, part: PartBlueprint, pool: Sequence[Candidate], cap: int) -> None:
        self.part = part
        self.cap = cap
        excluded = set(part.exclude)
        types = [s.type for s in part.sections]
        self.cands = [c for c in pool if c.type in types and c.item not in excluded]
        self.sec = [types.index(c.type) for c in self.cands]
        self.w = [self._weight(c) for c in self.cands]
        self.d = [c.difficulty for c in self.cands]
        self.total = _cents(part.total_points)
        self.variable = any(s.points_each is None for s in part.sections)
        self.sections = [[i for i, s in enumerate(self.sec) if s == k] for k in range(len(types))]
        # a gap in points weighs as many items as it would take to close it
        self.share_unit = len(self.w) / sum(self.w) if self.w else 1.0
        self.constraints: list[_Constraint] = []
        for cov in part.coverage:
            self.constraints += self._constraints(cov)
        self.contrib: list[list[tuple[int, int]]] = [[] for _ in self.cands]
        self.members: list[list[list[int]]] = [[[] for _ in types] for _ in self.constraints]
        for j, con in enumerate(self.constraints):
            cov = con.coverage
            for i, c in enumerate(self.cands):
                if cov.matches(c.covers, c.type):
                    self.contrib[i].append((j, self.w[i] if con.share else 1))
                    self.members[j][self.sec[i]].append(i)
        self.buckets: dict[tuple[int, int, int], list[int]] = {}
        for i in range(len(self.cands)):
            self.buckets.setdefault((self.sec[i], self.w[i], self.d[i]), []).append(i)
        weights = [w for w in self.w if w > 0] or [1]
        self.w_unit = 1.0 / min(weights)
        self.fine = 0.5 * math.gcd(*weights) / self.total + 1e-9
        self.band = None
        if part.difficulty is not None:
            self.band = (float(part.difficulty.target), float(part.difficulty.tolerance))
        self.target = self.band[0] if self.band else self._pool_mean()
        self.compositions = self._compositions()
        # how many compositions share the best deviation: the ones papers choose among
        nearest = self.compositions[0][0] if self.compositions else 0.0
        self.tier = sum(1 for dev, _ in self.compositions if dev <= nearest + self.fine)
        self.capacity = {(w, d): len(b) * cap for (_, w, d), b in self.buckets.items()}

    def _weight(self, c: Candidate) -> int:
        spec = self.part.section(c.type)
        assert spec is not None  # the pool was filtered to the part's types
        return _cents(spec.points_for(c.points))

    def _constraints(self, cov: Coverage) -> list[_Constraint]:
        """A coverage line as bounds on a count, on points, or both."""
        out = []
        if cov.min_count is not None or cov.max_count is not None:
            hi = 10**9 if cov.max_count is None else cov.max_count
            out.append(_Constraint(cov, False, cov.min_count or 0, hi))
        if cov.min_share is not None or cov.max_share is not None:
            lo = _cents((cov.min_share or Decimal(0)) * self.part.total_points)
            hi = _cents((cov.max_share or Decimal(1)) * self.part.total_points)
            out.append(_Constraint(cov, True, lo, hi))
        return out

    def _compositions(self) -> list[tuple[float, tuple[tuple[tuple[int, int], int], ...]]]:
        """For a part of one section whose items carry their own points (practical): every
        multiset of (points, difficulty) kinds the pool can fill that adds up to the part's
        total, as (deviation from the difficulty target, ((points, difficulty), times) …), nearest
        first. Filling a paper from these gives
        the right total and difficulty at once; local search alone would rarely find both."""
        if len(self.sections) != 1 or self.part.sections[0].points_each is not None:
            return []
        spec = self.part.sections[0]
        sizes = Counter((self.w[i], self.d[i]) for i in self.sections[0])
        kinds = sorted(sizes)
        found: list[tuple[tuple[int, int], ...]] = []

        def extend(pos: int, left: int, chosen: tuple[tuple[int, int], ...]) -> None:
            if left == 0:
                if len(chosen) >= spec.count_min:
                    found.append(chosen)
                return
            if pos == len(kinds) or len(chosen) == spec.count_max or len(found) > 50_000:
                return
            kind = kinds[pos]
            most = min(sizes[kind], spec.count_max - len(chosen), left // max(kind[0], 1))
            for times in range(most, -1, -1):
                extend(pos + 1, left - times * kind[0], chosen + (kind,) * times)

        extend(0, self.total, ())
        ranked = sorted(
            (abs(sum(w * d for w, d in c) / self.total - self.target), c) for c in found
        )
        return [(dev, tuple(sorted(Counter(c).items()))) for dev, c in ranked]

    def _pool_mean(self) -> float:
        """With no target, aim at what the pool offers: its mean, weighted as a paper would be."""
        num = den = 0.0
        for k, spec in enumerate(self.part.sections):
            members = self.sections[k]
            if not members:
                continue
            weight = spec.count_min * (
                float(spec.points_each) if spec.points_each else sum(self.w[i] for i in members)
            )
            num += weight * sum(self.d[i] for i in members) / len(members)
            den += weight
        return num / den if den else 3.0


def _cents(value: Decimal) -> int:
    return int((value * 100).to_integral_value())


@functools.cache
def _orders(keys: str) -> tuple[str, ...]:
    """Every order of the option keys, so a shuffle is one random index."""
    return tuple("".join(p) for p in itertools.permutations(keys))


@functools.cache
def _points(cents: int) -> Decimal:
    return Decimal(cents // 100) if cents % 100 == 0 else Decimal(cents) / 100


class _Draft:
    """A part of a paper being built: chosen items and running totals."""

    def __init__(self, model: _PartModel) -> None:
        self.m = model
        self.chosen: list[list[int]] = [[] for _ in model.part.sections]
        self.inside = [False] * len(model.cands)
        self.tot = [0] * len(model.constraints)
        # gaps kept as exact integers (items, hundredths of a point): "every coverage line
        # holds" is then a test for zero that no floating-point residue can spoil
        self.gaps = [0, 0]  # [items, hundredths of a point], indexed by _Constraint.share
        for c in model.constraints:
            self.gaps[c.share] += c.gap(0)
        self.sw = 0
        self.swd = 0

    def add(self, i: int) -> None:
        m = self.m
        self.chosen[m.sec[i]].append(i)
        self.inside[i] = True
        self._shift(i, 1)

    def remove(self, i: int) -> None:
        m = self.m
        self.chosen[m.sec[i]].remove(i)
        self.inside[i] = False
        self._shift(i, -1)

    def _shift(self, i: int, sign: int) -> None:
        m = self.m
        for j, a in m.contrib[i]:
            old = self.tot[j]
            self.tot[j] = old + sign * a
            c = m.constraints[j]
            self.gaps[c.share] += c.gap(self.tot[j]) - c.gap(old)
        self.sw += sign * m.w[i]
        self.swd += sign * m.w[i] * m.d[i]

    @property
    def covered(self) -> bool:
        return self.gaps == [0, 0]

    def hard(self, gaps: list[int], sw: int, swd: int) -> float:
        m = self.m
        h = gaps[0] + gaps[1] * m.share_unit
        if m.variable:
            h += abs(sw - m.total) * m.w_unit
        if m.band is not None and sw:
            h += max(0.0, abs(swd / sw - m.band[0]) - m.band[1]) * 20
        return h

    def score_after(self, out: int | None, inn: int | None) -> tuple[float, float]:
        """(hard violation, difficulty deviation) were ``out`` replaced by ``inn``."""
        m = self.m
        gaps, sw, swd = self.gaps, self.sw, self.swd
        changed: dict[int, int] = {}
        for i, sign in ((out, -1), (inn, 1)):
            if i is None:
                continue
            for j, a in m.contrib[i]:
                changed[j] = changed.get(j, self.tot[j]) + sign * a
            sw += sign * m.w[i]
            swd += sign * m.w[i] * m.d[i]
        if changed:
            gaps = gaps[:]
            for j, v in changed.items():
                c = m.constraints[j]
                gaps[c.share] += c.gap(v) - c.gap(self.tot[j])
        soft = abs(swd / sw - m.target) if sw else 0.0
        return self.hard(gaps, sw, swd), soft

    def score(self) -> tuple[float, float]:
        return self.score_after(None, None)

    def counts_ok(self) -> bool:
        return all(
            s.count_min <= len(c) <= s.count_max
            for s, c in zip(self.m.part.sections, self.chosen, strict=True)
        )

    def problems(self) -> list[str]:
        """What is still unmet, in words that name the constraint and the gap."""
        m = self.m
        out = []
        for c, t in zip(m.constraints, self.tot, strict=True):
            if c.gap(t):
                unit = "分" if c.share else "道"
                have = t / 100 if c.share else t
                bound = (
                    f"至少 {c.lo / 100 if c.share else c.lo}"
                    if t < c.lo
                    else f"至多 {c.hi / 100 if c.share else c.hi}"
                )
                out.append(
                    f"{m.part.name} · {c.coverage.label}：需要{bound} {unit}，只能做到 {have:g} {unit}"
                )
        for spec, chosen in zip(m.part.sections, self.chosen, strict=True):
            if len(chosen) < spec.count_min:
                out.append(
                    f"{m.part.name} · {spec.label}：至少需要 {spec.count_min} 道，"
                    f"可用的只有 {len(chosen)} 道"
                )
        if m.variable and self.sw != m.total:
            out.append(
                f"{m.part.name}：所选试题分值合计须为 {m.total / 100:g} 分，"
                f"题库中找不到这样的组合（最接近的是 {self.sw / 100:g} 分）"
            )
        if m.band is not None and self.sw:
            mean = self.swd / self.sw
            if abs(mean - m.band[0]) > m.band[1]:
                out.append(
                    f"{m.part.name}：平均难度须在 {m.band[0]:g}±{m.band[1]:g} 之内，"
                    f"只能做到 {mean:.2f}"
                )
        return out


class _PartBuilder:
    """Builds one part for paper after paper, keeping the decks and exposure of the plan."""

    def __init__(self, model: _PartModel, rng: random.Random, count: int) -> None:
        self.m = model
        self.rng = rng
        self.count = count
        self.made = 0
        self.usage = [0] * len(model.cands)
        self.kind_usage: dict[tuple[int, int], int] = {}
        self.capped = False
        self.decks = [list(s) for s in model.sections]
        self.cursor = [len(d) for d in self.decks]
        self.max_steps = 60 + 8 * sum(s.count_max for s in model.part.sections)

    def eligible(self, draft: _Draft, i: int) -> bool:
        return not draft.inside[i] and self.usage[i] < self.m.cap

    def draw(self, draft: _Draft, k: int, steer: bool = False) -> int | None:
        """The next eligible item of section ``k``'s deck; with ``steer``, of the next two
        the one that keeps the running mean difficulty nearer the target (the other stays
        next in the deck, so every item still comes once per pass)."""
        deck = self.decks[k]
        first = self._advance(draft, k)
        if first is None or not steer:
            return None if first is None else deck[first]
        pos = self.cursor[k]
        while pos < len(deck) and not self.eligible(draft, deck[pos]):
            pos += 1
        if pos == len(deck):
            return deck[first]
        m = self.m
        drift = draft.swd - m.target * draft.sw
        a, b = deck[first], deck[pos]
        if abs(drift + m.w[b] * (m.d[b] - m.target)) < abs(drift + m.w[a] * (m.d[a] - m.target)):
            deck[first], deck[pos] = b, a
        return deck[first]

    def _advance(self, draft: _Draft, k: int) -> int | None:
        deck = self.decks[k]
        for _ in range(2 * len(deck)):
            if self.cursor[k] >= len(deck):
                self.rng.shuffle(deck)
                self.cursor[k] = 0
            pos = self.cursor[k]
            self.cursor[k] += 1
            if self.eligible(draft, deck[pos]):
                return pos
        return None

    def fill(self) -> _Draft:
        m = self.m
        draft = _Draft(m)
        if m.compositions:
            if self.fill_composition(draft):
                return draft
            self.capped = True
        for k, spec in enumerate(m.part.sections):
            want = spec.count_min
            if spec.points_each is None and spec.count_min < spec.count_max:
                pool_w = [m.w[i] for i in m.sections[k]] or [1]
                mean_w = sum(pool_w) / len(pool_w)
                want = min(spec.count_max, max(spec.count_min, round(m.total / mean_w)))
            for _ in range(want):
                i = self.draw(draft, k, steer=True)
                if i is None:
                    break
                draft.add(i)
        return draft

    def fill_composition(self, draft: _Draft) -> bool:
        """Fill from a composition near the difficulty target, taking the least used items of
        each kind, such that the coverage holds too; False when exposure caps leave none.

        Compositions are ranked by deviation plus a pressure term: a kind of item consumed
        faster than the plan progresses (its share of capacity used ahead of the share of
        papers made) is penalised, so a scarce kind is not used up by the first papers and
        the rest of the plan left without a feasible paper."""
        m = self.m
        tier = m.compositions[: m.tier]
        tried = self.rng.sample(tier, min(len(tier), 24)) + m.compositions[m.tier : m.tier + 60]
        pace = self.made / self.count
        most = m.part.sections[0].count_max
        # how far each kind of item is ahead of the plan's progress (<= 0: on pace)
        ahead = {k: self.kind_usage.get(k, 0) / c - pace for k, c in m.capacity.items()}
        ranked = tried
        if any(a + most / m.capacity[k] > 0 for k, a in ahead.items()):

            def pressure(comp: tuple[tuple[tuple[int, int], int], ...]) -> float:
                return sum(max(0.0, ahead[k] + n / m.capacity[k]) for k, n in comp)

            ranked = sorted(tried, key=lambda c: c[0] + 10 * pressure(c[1]))
        fallback: list[int] | None = None
        for _, comp in ranked:
            picks: list[int] = []
            for kind, times in comp:
                ok = [i for i in m.buckets[(0, *kind)] if self.eligible(draft, i)]
                if len(ok) < times:
                    break
                ok.sort(key=lambda i: (self.usage[i], self.rng.random()))
                picks += ok[:times]
            else:
                for i in picks:
                    draft.add(i)
                if draft.covered:
                    return True
                fallback = fallback or picks
                for i in picks:
                    draft.remove(i)
        for i in fallback or []:
            draft.add(i)
        return fallback is not None

    def build(self) -> _Draft:
        best: _Draft | None = None
        best_score = (math.inf, math.inf)
        for _ in range(4):
            draft = self.fill()
            score = self.repair(draft)
            if score[0] == 0 and draft.counts_ok():
                return draft
            if (not draft.counts_ok(), score) < (best is None or not best.counts_ok(), best_score):
                best, best_score = draft, score
        assert best is not None
        problems = best.problems() or [f"{self.m.part.name}：无法组出满足细目表的试卷"]
        if self.capped:
            problems.insert(
                0,
                f"{self.m.part.name}：每题至多出现在 {self.m.cap} 份试卷中（曝光率上限），"
                f"到第 {self.made + 1} 份试卷时剩余的试题已凑不出合规的组合；"
                "请提高曝光率上限、减少试卷份数或增加已审核的试题",
            )
        raise AssemblyError(problems)

    def repair(self, draft: _Draft) -> tuple[float, float]:
        m = self.m
        score = draft.score()
        stuck = 0
        for _ in range(self.max_steps):
            if score[0] == 0 and score[1] <= m.fine:
                break
            moves = self.moves(draft)
            best_move, best_score = None, score
            for out, inn in moves:
                s = draft.score_after(out, inn)
                if s < best_score:
                    best_move, best_score = (out, inn), s
                    # take the first move that mends a constraint or hits the target outright
                    if s[0] < score[0] or (s[0] == 0 and s[1] <= m.fine):
                        break
            if best_move is None:
                stuck += 1
                if stuck > 4 and score[0] == 0:
                    break  # every constraint holds; the difficulty is as close as sampling finds
                if stuck > 6:
                    self.kick(draft)
                    score = draft.score()
                    stuck = 0
                continue
            stuck = 0
            out, inn = best_move
            if out is not None:
                draft.remove(out)
            if inn is not None:
                draft.add(inn)
            score = best_score
        return score

    def kick(self, draft: _Draft) -> None:
        """Swap a few items at random, to leave a spot the greedy steps cannot improve on."""
        for k, chosen in enumerate(draft.chosen):
            if not chosen:
                continue
            for _ in range(max(1, len(chosen) // 5)):
                inn = self.draw(draft, k)
                if inn is None:
                    break
                draft.remove(self.rng.choice(chosen))
                draft.add(inn)

    def _sample(self, draft: _Draft, candidates: Sequence[int], k: int = _SAMPLE) -> list[int]:
        """Up to ``k`` eligible candidates drawn at random, the least used first."""
        n = len(candidates)
        if not n:
            return []
        rand = self.rng.random
        picks = {candidates[int(rand() * n)] for _ in range(2 * k)}
        ok = [i for i in picks if self.eligible(draft, i)]
        ok.sort(key=lambda i: (self.usage[i], i))
        return ok[:k]

    def moves(self, draft: _Draft) -> list[tuple[int | None, int | None]]:
        m = self.m
        rng = self.rng
        goals: list[tuple[str, int]] = [
            ("constraint", j)
            for j, (c, t) in enumerate(zip(m.constraints, draft.tot, strict=True))
            if c.gap(t)
        ]
        if m.variable and draft.sw != m.total:
            goals.append(("points", 0))
        if not goals:
            goals.append(("difficulty", 0))
        kind, j = goals[rng.randrange(len(goals))]
        moves: list[tuple[int | None, int | None]] = []
        for k, spec in enumerate(m.part.sections):
            chosen = draft.chosen[k]
            if kind == "constraint" and draft.tot[j] < m.constraints[j].lo:
                incoming = self._sample(draft, m.members[j][k])
                outgoing = [i for i in chosen if all(jj != j for jj, _ in m.contrib[i])]
            elif kind == "constraint":
                incoming = self._sample(draft, m.sections[k])
                outgoing = [i for i in chosen if any(jj == j for jj, _ in m.contrib[i])]
            elif kind == "difficulty":
                moves += self.difficulty_moves(draft, chosen)
                continue
            else:
                incoming = self._sample(draft, m.sections[k])
                outgoing = list(chosen)
            if len(outgoing) > _SAMPLE:
                outgoing = rng.sample(outgoing, _SAMPLE)
            moves += [(o, i) for o in outgoing for i in incoming]
            if spec.count_min != spec.count_max:
                if len(chosen) < spec.count_max:
                    moves += [(None, i) for i in incoming]
                if len(chosen) > spec.count_min:
                    moves += [(o, None) for o in outgoing]
        return moves

    def difficulty_moves(
        self, draft: _Draft, chosen: list[int]
    ) -> list[tuple[int | None, int | None]]:
        """Swaps for an item of the same points, harder or easier as the mean needs."""
        m = self.m
        need = m.target * draft.sw - draft.swd  # difficulty × points still missing (or extra)
        step = 1 if need > 0 else -1
        outgoing = chosen if len(chosen) <= _SAMPLE else self.rng.sample(chosen, _SAMPLE)
        moves: list[tuple[int | None, int | None]] = []
        for o in outgoing:
            exact = m.d[o] + round(need / m.w[o]) if m.w[o] else m.d[o]
            for level in {min(5, max(1, exact)), m.d[o] + step}:
                bucket = m.buckets.get((m.sec[o], m.w[o], level))
                if bucket:
                    moves += [(o, i) for i in self._sample(draft, bucket, 2)]
        return moves

    def commit(self, draft: _Draft) -> None:
        m = self.m
        self.made += 1
        for chosen in draft.chosen:
            for i in chosen:
                self.usage[i] += 1
                kind = (m.w[i], m.d[i])
                self.kind_usage[kind] = self.kind_usage.get(kind, 0) + 1

    def paper_part(self, draft: _Draft) -> PaperPart:
        m = self.m
        items: list[PaperItem] = []
        for chosen in draft.chosen:
            order = sorted(chosen)
            if m.part.shuffle_items:
                self.rng.shuffle(order)
            for i in order:
                c = m.cands[i]
                options = ""
                if c.type in SHUFFLED_TYPES and c.options:
                    options = "".join(c.options)
                    if m.part.shuffle_options:
                        orders = _orders(options)
                        options = orders[int(self.rng.random() * len(orders))]
                items.append(
                    PaperItem(c.item, c.version, c.type, _points(m.w[i]), c.difficulty, options)
                )
        return PaperPart(m.part.kind, m.part.name, tuple(items))


@dataclass
class _Plan:
    builders: list[_PartBuilder]
    seen: set[tuple[tuple[str, ...], ...]] = field(default_factory=set)
    duplicates: int = 0


def assemble(
    blueprint: Blueprint, pool: Sequence[Candidate], count: int, seed: str | int
) -> PlanResult:
    """``count`` papers for one plan; raise AssemblyError when the blueprint cannot be met."""
    if count < 1:
        raise ValueError("count must be at least 1")
    rng = random.Random(f"examsvc-assembly/{ENGINE_VERSION}/{seed}")
    models = [_PartModel(p, pool, exposure_cap(p.max_exposure, count)) for p in blueprint.parts]
    plan = _Plan([_PartBuilder(m, rng, count) for m in models])
    papers = [_next_paper(plan, n) for n in range(1, count + 1)]
    stats = tuple(_part_stats(b, papers, k) for k, b in enumerate(plan.builders))
    return PlanResult(str(seed), ENGINE_VERSION, tuple(papers), stats, plan.duplicates)


def _next_paper(plan: _Plan, number: int) -> Paper:
    for attempt in range(_REDRAWS):
        drafts = [b.build() for b in plan.builders]
        key = tuple(
            tuple(sorted(b.m.cands[i].item for c in d.chosen for i in c))
            for b, d in zip(plan.builders, drafts, strict=True)
        )
        if key not in plan.seen or attempt == _REDRAWS - 1:
            break
    if key in plan.seen:
        plan.duplicates += 1
    plan.seen.add(key)
    for b, d in zip(plan.builders, drafts, strict=True):
        b.commit(d)
    return Paper(number, tuple(b.paper_part(d) for b, d in zip(plan.builders, drafts, strict=True)))


def _part_stats(builder: _PartBuilder, papers: list[Paper], k: int) -> PartStats:
    means = [p.parts[k].difficulty for p in papers]
    used = [u for u in builder.usage if u]
    return PartStats(
        kind=builder.m.part.kind,
        difficulty_min=min(means),
        difficulty_max=max(means),
        max_exposure=max(used, default=0) / len(papers),
        exposure_cap=builder.m.cap,
        items_used=len(used),
        pool=len(builder.m.cands),
    )
