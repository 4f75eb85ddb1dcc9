"""What the library page, the frame editor and the power planner show: cards and pools.

Pooling is per value tag x outcome, on the cards' common scale (Hedges' g of the whole
sample, `scale: smd`), with analysis.meta's REML + Knapp-Hartung random-effects model.
One effect per study and value: when several frames of a study carry the value, the
most precise one stands for the study (frames of one study share its control group,
so pooling them as separate studies would count that group twice). Fewer than
MIN_STUDIES studies are not pooled.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from analysis.meta import MIN_STUDIES, MetaResult, blup, heterogeneity_words, random_effects
from analysis.meta_moderator import MIN_STUDIES_REGRESSION, MetaRegression, meta_regression
from framelab.db.library import LibraryCard, LibraryPartner
from framelab.db.models import Study
from framelab.db.session import reading
from framelab.services.accounts import Account, role_allows, studies_for

__all__ = ["Filters", "LibraryView", "library", "value_evidence"]

Z95 = 1.959963984540054


@dataclass(frozen=True)
class Filters:
    country: str = ""
    language: str = ""
    audience: str = ""
    messenger: str = ""


@dataclass(frozen=True)
class CardEntry:
    pk: int
    origin: str
    source: str  # "this instance" or the partner's name
    title: str
    country: str
    languages: list[str]
    audience: str
    closed_on: str
    participants: int
    study_slug: str | None
    card: dict[str, Any] = field(repr=False)


@dataclass(frozen=True)
class FrameEffect:
    card_pk: int
    source: str
    imported: bool
    study: str
    country: str
    label: str
    messenger: str | None
    values: list[str]
    outcome: str
    estimate: float
    std_error: float
    conf_low: float
    conf_high: float
    n: int
    shrunk: tuple[float, float, float] | None = None  # BLUP estimate and interval


@dataclass(frozen=True)
class Pool:
    value: str
    outcome: str
    outcome_label: str
    studies: int
    participants: int
    imported: int
    result: MetaResult | None
    words: str
    refused: str | None
    regression: MetaRegression | None = None
    moderator: str | None = None


@dataclass(frozen=True)
class Group:
    value: str
    outcome: str
    outcome_label: str
    frames: list[FrameEffect]
    pool: Pool


@dataclass(frozen=True)
class LibraryView:
    cards: list[CardEntry]
    groups: list[Group]
    countries: list[str]
    languages: list[str]
    messengers: list[str]
    filters: Filters


def _visible_cards(session: Session, account: Account) -> list[CardEntry]:
    with reading(session):
        results_studies = {
            ref.id for ref in studies_for(session, account) if role_allows(ref.role, "results")
        }
        rows = session.execute(
            sa.select(
                LibraryCard.id,
                LibraryCard.origin,
                LibraryCard.study_id,
                LibraryCard.envelope,
                LibraryPartner.name.label("partner"),
                Study.slug,
            )
            .outerjoin(LibraryPartner, LibraryPartner.id == LibraryCard.partner_id)
            .outerjoin(Study, Study.id == LibraryCard.study_id)
            .order_by(LibraryCard.added_at.desc(), LibraryCard.id.desc())
        ).all()
    entries = []
    for row in rows:
        if row.origin == "local" and row.study_id not in results_studies:
            continue  # another team's study: its results are theirs to see
        card = json.loads(row.envelope)["card"]
        study = card["study"]
        # Analysed participants: per outcome the control plus every frame arm; the largest.
        per_outcome: dict[str, int] = defaultdict(int)
        controls: dict[str, int] = {}
        for r in card["results"]:
            if r["subgroup"] is None and r["scale"] == "smd":
                per_outcome[r["outcome"]] += r["n_treatment"]
                controls[r["outcome"]] = r["n_control"]
        participants = max((n + controls[o] for o, n in per_outcome.items()), default=0)
        entries.append(
            CardEntry(
                pk=row.id,
                origin=row.origin,
                source=row.partner if row.origin == "imported" else "this instance",
                title=study["title"],
                country=study["country"],
                languages=list(study["languages"]),
                audience=study["audience"],
                closed_on=study["closed_on"],
                participants=participants,
                study_slug=row.slug,
                card=card,
            )
        )
    return entries


def _matches(entry: CardEntry, f: Filters) -> bool:
    if f.country and entry.country != f.country:
        return False
    if f.language and f.language not in entry.languages:
        return False
    return not (f.audience and f.audience.casefold() not in entry.audience.casefold())


def _frame_effects(entry: CardEntry, f: Filters) -> list[FrameEffect]:
    frames = {fr["arm"]: fr for fr in entry.card["frames"]}
    out = []
    for row in entry.card["results"]:
        frame = frames[row["arm"]]
        if row["subgroup"] is not None or row["scale"] != "smd" or not frame["values"]:
            continue
        if f.messenger and (frame["messenger"] or "") != f.messenger:
            continue
        est, se = row["estimate"], row["std_error"]
        low = row["conf_low"] if row.get("conf_low") is not None else est - Z95 * se
        high = row["conf_high"] if row.get("conf_high") is not None else est + Z95 * se
        out.append(
            FrameEffect(
                card_pk=entry.pk,
                source=entry.source,
                imported=entry.origin == "imported",
                study=entry.title,
                country=entry.country,
                label=frame["label"],
                messenger=frame["messenger"],
                values=list(frame["values"]),
                outcome=row["outcome"],
                estimate=est,
                std_error=se,
                conf_low=low,
                conf_high=high,
                n=row["n_treatment"] + row["n_control"],
            )
        )
    return out


def _pool(
    value: str, outcome: str, label: str, frames: list[FrameEffect], entries: dict[int, CardEntry]
) -> tuple[Pool, list[FrameEffect]]:
    best: dict[int, FrameEffect] = {}
    for fe in frames:
        if fe.card_pk not in best or fe.std_error < best[fe.card_pk].std_error:
            best[fe.card_pk] = fe
    chosen = list(best.values())
    k = len(chosen)
    participants = sum(fe.n for fe in chosen)
    imported = sum(1 for fe in chosen if fe.imported)
    if k < MIN_STUDIES:
        refused = (
            f"Not pooled: {k} {'study' if k == 1 else 'studies'}; pooling needs at least "
            f"{MIN_STUDIES}."
        )
        return Pool(value, outcome, label, k, participants, imported, None, "", refused), frames
    result = random_effects([fe.estimate for fe in chosen], [fe.std_error**2 for fe in chosen])
    shrunk = blup(result)
    by_card = {
        fe.card_pk: (float(r.estimate), float(r.pi_low), float(r.pi_high))
        for fe, r in zip(chosen, shrunk.itertuples(), strict=True)
    }
    frames = [
        FrameEffect(**{**fe.__dict__, "shrunk": by_card[fe.card_pk]})
        if best.get(fe.card_pk) is fe
        else fe
        for fe in frames
    ]
    regression = moderator = None
    mods = [entries[fe.card_pk].card["study"].get("audience_moderator") for fe in chosen]
    names = {m["name"] for m in mods if m}
    if k >= MIN_STUDIES_REGRESSION and len(names) == 1 and all(mods):
        xs = [m["value"] for m in mods]
        if len(set(xs)) > 1:
            moderator = names.pop()
            regression = meta_regression(
                [fe.estimate for fe in chosen], [fe.std_error**2 for fe in chosen], xs
            )
    pool = Pool(
        value,
        outcome,
        label,
        k,
        participants,
        imported,
        result,
        heterogeneity_words(result, value),
        None,
        regression,
        moderator,
    )
    return pool, frames


def library(session: Session, account: Account, filters: Filters | None = None) -> LibraryView:
    """The cards this account may see, their frames by value x outcome, and the pools."""
    f = filters or Filters()
    everything = _visible_cards(session, account)
    cards = [e for e in everything if _matches(e, f)]
    entries = {e.pk: e for e in cards}
    grouped: dict[tuple[str, str], list[FrameEffect]] = defaultdict(list)
    labels: dict[str, str] = {}
    for entry in cards:
        for name, info in entry.card["outcomes"].items():
            labels.setdefault(name, info.get("label") or name)
        for fe in _frame_effects(entry, f):
            for value in fe.values:
                grouped[(value, fe.outcome)].append(fe)
    groups = []
    for (value, outcome), frames in sorted(grouped.items()):
        pool, frames = _pool(value, outcome, labels.get(outcome, outcome), frames, entries)
        groups.append(Group(value, outcome, labels.get(outcome, outcome), frames, pool))
    messengers = sorted(
        {fr["messenger"] for e in everything for fr in e.card["frames"] if fr["messenger"]}
    )
    return LibraryView(
        cards=cards,
        groups=groups,
        countries=sorted({e.country for e in everything}),
        languages=sorted({lang for e in everything for lang in e.languages}),
        messengers=messengers,
        filters=f,
    )


def value_evidence(session: Session, account: Account, values: list[str]) -> list[Pool]:
    """The library's pools (every outcome) for these value tags: what such frames did before."""
    wanted = set(values)
    if not wanted:
        return []
    view = library(session, account)
    return [g.pool for g in view.groups if g.value in wanted]
