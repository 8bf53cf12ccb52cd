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
_RUNNERS_UP = 60  # compositions a practical part tries after the nearest ones


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


# PaperItem from a full tuple of fields, as ``PaperItem._make`` but without its Python frame
_new_item = tuple.__new__


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
        self.names = [c.item for c in self.cands]
        self.sec = [types.index(c.type) for c in self.cands]
        # an item's points depend only on its section and its own points: a few distinct pairs
        cents: dict[tuple[int, Decimal | None], int] = {}
        for c, k in zip(self.cands, self.sec, strict=True):
            if (k, c.points) not in cents:
                cents[k, c.points] = _cents(part.sections[k].points_for(c.points))
        self.w = [cents[k, c.points] for c, k in zip(self.cands, self.sec, strict=True)]
        self.d = [c.difficulty for c in self.cands]
        self.wd = [w * d for w, d in zip(self.w, self.d, strict=True)]
        self.kinds = list(zip(self.w, self.d, strict=True))
        self.total = _cents(part.total_points)
        self.variable = any(s.points_each is None for s in part.sections)
        self.sections = [[i for i, s in enumerate(self.sec) if s == k] for k in range(len(types))]
        # a gap in points weighs as many items as it would take to close it
        self.share_unit = len(self.w) / sum(self.w) if self.w else 1.0
        self.constraints: list[_Constraint] = []
        for cov in part.coverage:
            self.constraints += self._constraints(cov)
        self.gap = [c.gap for c in self.constraints]
        self.share = [int(c.share) for c in self.constraints]
        self.contrib: list[list[tuple[int, int]]] = [[] for _ in self.cands]
        self.members: list[list[list[int]]] = []  # per line and section, the items it counts
        self.counted: list[set[int]] = []  # per line, the items it counts in any section
        # an item counts for a line when it covers the line's key and has a type the line
        # takes: so index the items by key, and ask the line once per section about the type
        holders: dict[str, list[int]] = {}
        for i, c in enumerate(self.cands):
            for key in c.covers:
                holders.setdefault(key, []).append(i)
        for j, con in enumerate(self.constraints):
            cov = con.coverage
            takes = [cov.matches(frozenset({cov.key}), t) for t in types]
            hits = [i for i in holders.get(cov.key, []) if takes[self.sec[i]]]
            for i in hits:
                self.contrib[i].append((j, self.w[i] if con.share else 1))
            self.members.append([[i for i in hits if self.sec[i] == k] for k in range(len(types))])
            self.counted.append(set(hits))
        self.buckets: dict[tuple[int, int, int], list[int]] = {}
        for i in range(len(self.cands)):
            self.buckets.setdefault((self.sec[i], self.w[i], self.d[i]), []).append(i)
        # per item, the buckets of its section and points by difficulty: where its swaps are
        by_level: dict[tuple[int, int], dict[int, list[int]]] = {}
        for (k, w, d), bucket in self.buckets.items():
            by_level.setdefault((k, w), {})[d] = bucket
        self.levels = [by_level[(k, w)] for k, w in zip(self.sec, self.w, strict=True)]
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
        # each composition's share of each kind's capacity, for the pacing in fill_composition
        self.loads = {
            comp: tuple((k, n / self.capacity[k]) for k, n in comp)
            for _, comp in self.compositions[: self.tier + _RUNNERS_UP]
        }
        # each item as a paper shows it, options in bank order, and the option orders a paper
        # picks one of (None: the order stays): made once, not once per paper
        self.paper_items: list[PaperItem] = []
        self.orders: list[tuple[str, ...] | None] = []
        for c, w in zip(self.cands, self.w, strict=True):
            options, orders = "", None
            if c.type in SHUFFLED_TYPES:
                options = "".join(c.options)
                if c.options and part.shuffle_options:
                    orders = _orders(options)
            fields = (c.item, c.version, c.type, _points(w), c.difficulty, options)
            self.paper_items.append(_new_item(PaperItem, fields))
            self.orders.append(orders)

    def totals(self, items: list[int]) -> list[int]:
        """Each coverage line's total over ``items``."""
        tot = [0] * len(self.constraints)
        for i in items:
            for j, a in self.contrib[i]:
                tot[j] += a
        return tot

    def covered_by(self, items: list[int]) -> bool:
        """Do ``items`` together meet every coverage line?"""
        return not any(gap(t) for gap, t in zip(self.gap, self.totals(items), strict=True))

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
        top = kinds[-1][0] if kinds else 0  # the most points one item can add
        found: list[tuple[tuple[int, int], ...]] = []

        def extend(pos: int, left: int, chosen: tuple[tuple[int, int], ...]) -> None:
            if left == 0:
                if len(chosen) >= spec.count_min:
                    found.append(chosen)
                return
            if pos == len(kinds) or len(chosen) == spec.count_max or len(found) > 50_000:
                return
            kind = kinds[pos]
            if left < kind[0] or left > (spec.count_max - len(chosen)) * top:
                return  # every item left overshoots the total, or all together fall short
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

    def __init__(self, model: _PartModel, spent: bytearray) -> None:
        self.m = model
        self.chosen: list[list[int]] = [[] for _ in model.part.sections]
        # items this paper may not take: chosen already, or at the exposure cap (``spent``);
        # one flag, so the hot loops test eligibility with one lookup. Byte arrays, not lists:
        # the garbage collector need not walk them, and a copy per draft is one memcpy
        self.spent = spent
        self.blocked = spent[:]
        self.sw = 0
        self.swd = 0
        self.recount()

    def recount(self) -> None:
        """Set the coverage totals from the chosen items, after a fill added them without."""
        m = self.m
        self.tot = tot = m.totals([i for chosen in self.chosen for i in chosen])
        self.cur = [gap(t) for gap, t in zip(m.gap, tot, strict=True)]  # each line's gap
        # gaps kept as exact integers (items, hundredths of a point): "every coverage line
        # holds" is then a test for zero that no floating-point residue can spoil
        self.gaps = [0, 0]  # [items, hundredths of a point], indexed by _Constraint.share
        for share, g in zip(m.share, self.cur, strict=True):
            self.gaps[share] += g

    def add(self, i: int) -> None:
        m = self.m
        self.chosen[m.sec[i]].append(i)
        self.blocked[i] = 1
        self.sw += m.w[i]
        self.swd += m.wd[i]
        self._shift(i, 1)

    def remove(self, i: int) -> None:
        m = self.m
        self.chosen[m.sec[i]].remove(i)
        self.blocked[i] = self.spent[i]
        self.sw -= m.w[i]
        self.swd -= m.wd[i]
        self._shift(i, -1)

    def _shift(self, i: int, sign: int) -> None:
        """Move the coverage totals by item ``i``, ``sign`` = 1 added, -1 removed."""
        m = self.m
        tot, cur, gaps, gap, share = self.tot, self.cur, self.gaps, m.gap, m.share
        for j, a in m.contrib[i]:
            t = tot[j] + sign * a
            tot[j] = t
            g = gap[j](t)
            gaps[share[j]] += g - cur[j]
            cur[j] = g

    def score_after(
        self, out: int | None, inn: int | None, beat: tuple[float, float] | None = None
    ) -> tuple[float, float] | None:
        """(hard violation, difficulty deviation) were ``out`` replaced by ``inn``; None if
        that cannot come out below ``beat``."""
        m = self.m
        sw, swd = self.sw, self.swd
        if out is not None:
            sw -= m.w[out]
            swd -= m.wd[out]
        if inn is not None:
            sw += m.w[inn]
            swd += m.wd[inn]
        soft = abs(swd / sw - m.target) if sw else 0.0
        total = band = 0.0
        if m.variable:
            total = abs(sw - m.total) * m.w_unit
        if m.band is not None and sw:
            band = max(0.0, abs(swd / sw - m.band[0]) - m.band[1]) * 20
        # the coverage gaps only add to the rest, so most moves a repair step looks at are
        # ruled out here, before the gaps (the costly part) are counted
        if beat is not None and (total + band, soft) >= beat:
            return None
        tot = self.tot
        changed: dict[int, int] = {}
        if out is not None:
            for j, a in m.contrib[out]:
                changed[j] = tot[j] - a
        if inn is not None:
            for j, a in m.contrib[inn]:
                changed[j] = changed.get(j, tot[j]) + a
        gaps = self.gaps[:]
        for j, v in changed.items():
            gaps[m.share[j]] += m.gap[j](v) - self.cur[j]
        # summed in this order since engine version 1: another order can round differently
        # and so change which of two nearly equal moves wins, and with it the papers
        return gaps[0] + gaps[1] * m.share_unit + total + band, soft

    def score(self) -> tuple[float, float]:
        score = self.score_after(None, None)
        assert score is not None  # nothing to beat
        return score

    def counts_ok(self) -> bool:
        for s, c in zip(self.m.part.sections, self.chosen, strict=True):
            if not s.count_min <= len(c) <= s.count_max:
                return False
        return True

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


_Move = tuple[int | None, int | None]  # (item out, item in); None: nothing out or in


# Moves sharing one random sample, as (outs, candidates, draws, start, k, adds, drops, shift):
# each of ``outs`` for each of up to ``k`` candidates sampled with ``draws[start : start + 2k]``;
# with ``adds`` each of those added alone too, with ``drops`` each of ``outs`` dropped. ``shift``
# is set when every move of the group is a swap of one item for one of the same points and
# another difficulty: the change in the points × difficulty sum they all make (else None).
# A plain tuple: a plan makes tens of thousands.
_Moves = tuple[Sequence[int], Sequence[int], list[float], int, int, bool, bool, int | None]


class _PartBuilder:
    """Builds one part for paper after paper, keeping the decks and exposure of the plan."""

    def __init__(self, model: _PartModel, rng: random.Random, count: int) -> None:
        self.m = model
        self.rng = rng
        self.count = count
        self.made = 0
        self.usage = [0] * len(model.cands)
        self.spent = bytearray(len(model.cands))  # 1: at the exposure cap
        self.kind_usage: dict[tuple[int, int], int] = {}
        self.capped = False
        self.decks = [list(s) for s in model.sections]
        self.cursor = [len(d) for d in self.decks]
        self.max_steps = 60 + 8 * sum(s.count_max for s in model.part.sections)

    def draw(self, draft: _Draft, k: int) -> int | None:
        """The next eligible item of section ``k``'s deck."""
        first = self._advance(draft, k)
        return None if first is None else self.decks[k][first]

    def deal(self, draft: _Draft, k: int, count: int) -> None:
        """Take up to ``count`` items of section ``k``'s deck: of the next two eligible ones,
        each time the one that keeps the running mean difficulty nearer the target (the other
        stays next in the deck, so every item still comes once per pass)."""
        m = self.m
        w, d, target = m.w, m.d, m.target
        deck, blocked, chosen = self.decks[k], draft.blocked, draft.chosen[k]
        end = len(deck)
        sw, swd = draft.sw, draft.swd
        for _ in range(count):
            first = self.cursor[k]
            if first < end and not blocked[deck[first]]:
                self.cursor[k] = first + 1  # the usual case, without a call
            else:
                advanced = self._advance(draft, k)
                if advanced is None:
                    break
                first = advanced
            pos = first + 1
            while pos < end and blocked[deck[pos]]:
                pos += 1
            if pos < end:
                drift = swd - target * sw
                a, b = deck[first], deck[pos]
                if abs(drift + w[b] * (d[b] - target)) < abs(drift + w[a] * (d[a] - target)):
                    deck[first], deck[pos] = b, a
            # what add does, less the coverage totals: recount sets those once per fill
            i = deck[first]
            chosen.append(i)
            blocked[i] = 1
            sw += w[i]
            swd += w[i] * d[i]
        draft.sw, draft.swd = sw, swd

    def _advance(self, draft: _Draft, k: int) -> int | None:
        """Position of the next eligible item of section ``k``'s deck, reshuffling the deck at
        its end; None when no item of it is eligible."""
        deck = self.decks[k]
        blocked = draft.blocked
        pos = self.cursor[k]
        for _ in range(2 * len(deck)):
            if pos >= len(deck):
                self.rng.shuffle(deck)
                pos = 0
            pos += 1
            if not blocked[deck[pos - 1]]:
                self.cursor[k] = pos
                return pos - 1
        self.cursor[k] = pos
        return None

    def fill(self) -> _Draft:
        m = self.m
        draft = _Draft(m, self.spent)
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
            self.deal(draft, k, want)
        draft.recount()
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
        tried = self.rng.sample(tier, min(len(tier), 24))
        tried += m.compositions[m.tier : m.tier + _RUNNERS_UP]
        pace = self.made / self.count
        most = m.part.sections[0].count_max
        # how far each kind of item is ahead of the plan's progress (<= 0: on pace)
        ahead = {k: self.kind_usage.get(k, 0) / c - pace for k, c in m.capacity.items()}
        ranked = tried
        if any(a + most / m.capacity[k] > 0 for k, a in ahead.items()):
            pressured = []
            for dev, comp in tried:
                # max(0.0, x) written out: this runs for every kind of every composition tried
                excess = [x if (x := ahead[k] + load) > 0.0 else 0.0 for k, load in m.loads[comp]]
                pressured.append(dev + 10 * sum(excess))
            ranked = [tried[n] for n in sorted(range(len(tried)), key=pressured.__getitem__)]
        usage, rand, blocked = self.usage, self.rng.random, draft.blocked
        # the first composition whose items meet the coverage, else the first that could be filled
        taken: list[int] | None = None
        for _, comp in ranked:
            picks: list[int] = []
            for kind, times in comp:
                ok = [i for i in m.buckets[(0, *kind)] if not blocked[i]]
                if len(ok) < times:
                    break
                # random among the least used; a bucket lists its items in index order, so a
                # tie in both (never seen) goes to the first, as a stable sort would
                ranked_ok = sorted([(usage[i], rand(), i) for i in ok])
                picks += [i for _, _, i in ranked_ok[:times]]
            else:
                if m.covered_by(picks):
                    taken = picks
                    break
                taken = taken or picks
        for i in taken or []:
            draft.add(i)
        return taken is not None

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
            best_move, best_score = self.step(draft, score)
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

    def _draws(self, n: int) -> list[float]:
        """``n`` random numbers in [0, 1), for ``_sample``."""
        rand = self.rng.random
        return [rand() for _ in range(n)]

    def step(
        self, draft: _Draft, score: tuple[float, float]
    ) -> tuple[_Move | None, tuple[float, float]]:
        """A repair step's move and the score after it: the first move that mends a constraint
        or hits the target outright, else the best improving one (None: no move improves).

        The moves are sampled group by group as the search reaches them, since a step usually
        ends within the first few groups. Swaps with the same shift leave the same points and
        difficulty sums, so one bound on the score holds for all of them: a group whose bound
        cannot beat the best so far is skipped whole, and so is every later group with that
        shift (the best only falls during a step, so a bound once too high stays too high)."""
        fine = self.m.fine
        best_move: _Move | None = None
        best = score
        hopeless: set[int] = set()  # shifts whose bound cannot beat ``best``
        for outs, candidates, draws, start, k, adds, drops, shift in self.moves(draft):
            if shift is not None:
                if shift in hopeless:
                    continue
                if draft.score_after(outs[0], candidates[0], best) is None:
                    hopeless.add(shift)
                    continue
            incoming = self._sample(draft, candidates, draws, start, k)
            moves: list[_Move] = [(o, i) for o in outs for i in incoming]
            if adds:
                moves += [(None, i) for i in incoming]
            if drops:
                moves += [(o, None) for o in outs]
            for out, inn in moves:
                s = draft.score_after(out, inn, best)
                if s is not None and s < best:
                    best_move, best = (out, inn), s
                    if s[0] < score[0] or (s[0] == 0 and s[1] <= fine):
                        return best_move, best
        return best_move, best

    def _sample(
        self, draft: _Draft, candidates: Sequence[int], draws: list[float], start: int, k: int
    ) -> list[int]:
        """Up to ``k`` eligible ``candidates`` picked with ``draws[start : start + 2 * k]``
        (repeats and ineligible picks dropped), the least used first."""
        n = len(candidates)
        if not n:
            return []  # nothing was drawn
        picks = {candidates[int(draws[t] * n)] for t in range(start, start + 2 * k)}
        blocked = draft.blocked
        ok = sorted([i for i in picks if not blocked[i]])
        ok.sort(key=self.usage.__getitem__)  # stable: ties stay in index order
        return ok[:k]

    def moves(self, draft: _Draft) -> list[_Moves]:
        """Candidate moves towards one unmet goal, drawn at random. Every random number of
        the step is drawn here, so how many moves ``step`` goes on to look at does not change
        what later steps draw."""
        m = self.m
        rng = self.rng
        goals: list[tuple[str, int]] = [("constraint", j) for j, gap in enumerate(draft.cur) if gap]
        if m.variable and draft.sw != m.total:
            goals.append(("points", 0))
        if not goals:
            goals.append(("difficulty", 0))
        kind, j = goals[rng.randrange(len(goals))]
        moves: list[_Moves] = []
        for k, spec in enumerate(m.part.sections):
            chosen = draft.chosen[k]
            if kind == "constraint" and draft.tot[j] < m.constraints[j].lo:
                incoming = m.members[j][k]
                outgoing = [i for i in chosen if i not in m.counted[j]]
            elif kind == "constraint":
                incoming = m.sections[k]
                outgoing = [i for i in chosen if i in m.counted[j]]
            elif kind == "difficulty":
                moves += self.difficulty_moves(draft, chosen)
                continue
            else:
                incoming = m.sections[k]
                outgoing = list(chosen)
            draws = self._draws(2 * _SAMPLE if incoming else 0)
            if len(outgoing) > _SAMPLE:
                outgoing = rng.sample(outgoing, _SAMPLE)
            varies = spec.count_min != spec.count_max
            adds = varies and len(chosen) < spec.count_max
            drops = varies and len(chosen) > spec.count_min
            moves.append((outgoing, incoming, draws, 0, _SAMPLE, adds, drops, None))
        return moves

    def difficulty_moves(self, draft: _Draft, chosen: list[int]) -> list[_Moves]:
        """Swaps for an item of the same points, harder or easier as the mean needs."""
        m = self.m
        need = m.target * draft.sw - draft.swd  # difficulty × points still missing (or extra)
        step = 1 if need > 0 else -1
        outgoing = chosen if len(chosen) <= _SAMPLE else self.rng.sample(chosen, _SAMPLE)
        swaps: list[tuple[int, list[int], int]] = []
        for o in outgoing:
            d, w, levels = m.d[o], m.w[o], m.levels[o]
            exact = d + round(need / w) if w else d
            for level in {1 if exact < 1 else 5 if exact > 5 else exact, d + step}:
                bucket = levels.get(level)
                if bucket:
                    swaps.append((o, bucket, w * (level - d)))
        # the numbers for every swap in one go, as drawing them swap by swap would
        draws = self._draws(4 * len(swaps))
        return [
            ((o,), bucket, draws, 4 * n, 2, False, False, shift)
            for n, (o, bucket, shift) in enumerate(swaps)
        ]

    def commit(self, draft: _Draft) -> None:
        m = self.m
        self.made += 1
        usage, kind_usage, spent = self.usage, self.kind_usage, self.spent
        for chosen in draft.chosen:
            for i in chosen:
                usage[i] += 1
                if usage[i] >= m.cap:
                    spent[i] = 1
                if m.compositions:  # the only reader of kind_usage
                    kind = m.kinds[i]
                    kind_usage[kind] = kind_usage.get(kind, 0) + 1

    def paper_part(self, draft: _Draft) -> PaperPart:
        m = self.m
        rand = self.rng.random
        paper_items, option_orders = m.paper_items, m.orders
        items: list[PaperItem] = []
        for chosen in draft.chosen:
            order = sorted(chosen)
            if m.part.shuffle_items:
                self.rng.shuffle(order)
            for i in order:
                item, orders = paper_items[i], option_orders[i]
                if orders is not None:
                    item = _new_item(PaperItem, (*item[:-1], orders[int(rand() * len(orders))]))
                items.append(item)
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
            tuple(sorted([b.m.names[i] for c in d.chosen for i in c]))
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
