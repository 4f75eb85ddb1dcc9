"""Hypothesis strategies that build valid studies, every field of the study model included.

study_data()      # a dict that `study_from_data` accepts (the tests validate it again)
studies()         # the same, validated: a Study

Valid by construction, not by filtering: languages among a few codes (one without a
shipped catalog, one with a region; the default not always first), a control and 1-4
frame arms with optional weights, block sizes that are multiples of the total weight, an
optional factorial design whose cells the frame arms cover exactly, items of every type,
role and phase with their type-specific fields, scales over items of one response scale
and phase, blocking on a required pre question with strata that group all its answers,
an analysis plan that names measured items and scales, completion, quality, and the
translation section (its `untranslated` keys are drawn from the study's own texts).

Texts shown in single-line inputs (titles, labels) are single lines; Markdown texts
(consent, debrief, frame bodies) may have paragraphs, with the default language's text
having them whenever another language's does (the translation view shows a text as a
textarea when the default language's text is long or multi-line).
"""

from __future__ import annotations

import itertools
from typing import Any

from hypothesis import strategies as st

from framelab.domain.study import Study, study_from_data
from framelab.domain.translation import CATALOG_REGISTERS, interface_msgids, text_units
from framelab.domain.values import VALUES

LANGUAGE_POOL = ("en", "es", "fr", "pt-BR", "sw")
BUILT_IN_VALUES = tuple(VALUES)
ITEM_TYPES = ("likert", "slider", "binary", "choice", "text")
ROLES = ("covariate", "outcome", "intent", "attention_check", "manipulation_check")
PHASES = (["pre"], ["post"], ["pre", "post"])
TEXT_ROLES = ("covariate", "intent")

# Words with what HTML forms must carry through unchanged: markup characters, quotes,
# accents, right-to-left script, an astral character.
WORDS = (
    "Vote",
    "for",
    "the",
    "ban",
    "<b>",
    "&amp;",
    '"quoted"',
    "l'été",
    "niños",
    "حقوق",
    "🌍",
    "5%",
)

# Lines made of those words, drawn whole: one draw per text keeps generation fast (the
# forms are what is tested, not the variety of wording).
LINES = (
    *(
        " ".join(WORDS[(start + k * step) % len(WORDS)] for k in range(length))
        for start in range(len(WORDS))
        for step, length in ((1, 1), (5, 4), (7, 9))
    ),
    # White space around a text, as pasted.
    " Vote ",
    "ban  ",
)


identifiers = st.from_regex(r"[a-z][a-z0-9_]{0,11}", fullmatch=True)


def one_line() -> st.SearchStrategy[str]:
    return st.sampled_from(LINES)


def paragraphs(count: int) -> st.SearchStrategy[str]:
    """Markdown: paragraphs, or lines joined by a hard line break (two spaces, newline)."""
    lines = st.lists(one_line(), min_size=count, max_size=count)
    return st.tuples(lines, st.sampled_from(("\n\n", "  \n"))).map(lambda t: t[1].join(t[0]))


@st.composite
def localized(draw: Any, langs: list[str], *, markdown: bool = False) -> Any:
    """A plain text (one language only, sometimes) or a mapping language -> text."""
    if markdown:
        count = draw(st.integers(1, 3))
        # The default language is multi-line whenever another language is.
        texts = {langs[0]: draw(paragraphs(count))}
        for lang in langs[1:]:
            texts[lang] = draw(paragraphs(draw(st.integers(1, count))))
    else:
        texts = {lang: draw(one_line()) for lang in langs}
    if len(langs) == 1 and draw(st.booleans()):
        return texts[langs[0]]
    return texts


@st.composite
def localized_labels(draw: Any, langs: list[str], count: int) -> Any:
    texts = {lang: draw(st.lists(one_line(), min_size=count, max_size=count)) for lang in langs}
    if len(langs) == 1 and draw(st.booleans()):
        return texts[langs[0]]
    return texts


def maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), strategy)


# ---------------------------------------------------------------- items


def _roles_for(item_type: str) -> tuple[str, ...]:
    return TEXT_ROLES if item_type == "text" else ROLES


def _allowed(item: dict[str, Any]) -> list[int]:
    kind = item["type"]
    if kind == "likert":
        return list(range(1, item["points"] + 1))
    if kind == "slider":
        return list(range(0, 101))
    if kind == "binary":
        return [0, 1]
    return [o["value"] for o in item["options"]]


@st.composite
def item_data(
    draw: Any,
    item_id: str,
    langs: list[str],
    values: list[str],
    *,
    item_type: str | None = None,
    phase: list[str] | None = None,
    role: str | None = None,
    required: bool | None = None,
    points: int | None = None,
) -> dict[str, Any]:
    kind = item_type or draw(st.sampled_from(ITEM_TYPES))
    item: dict[str, Any] = {
        "id": item_id,
        "type": kind,
        "text": draw(localized(langs)),
        "phase": phase or draw(st.sampled_from(PHASES)),
    }
    chosen_role = role or draw(st.sampled_from(_roles_for(kind)))
    if chosen_role != "covariate" or draw(st.booleans()):
        item["role"] = chosen_role
    chosen_required = draw(st.booleans()) if required is None else required
    if not chosen_required or draw(st.booleans()):
        item["required"] = chosen_required
    if draw(st.booleans()):
        item["value"] = draw(st.sampled_from(values))
    if kind == "likert":
        item["points"] = points or draw(st.sampled_from((5, 7)))
        if draw(st.booleans()):
            count = draw(st.sampled_from((2, item["points"])))
            item["labels"] = draw(localized_labels(langs, count))
        if draw(st.booleans()):
            item["reverse"] = draw(st.booleans())
    elif kind == "slider":
        for name in ("min_label", "max_label"):
            if draw(st.booleans()):
                item[name] = draw(localized(langs))
    elif kind == "binary":
        for name in ("yes_label", "no_label"):
            if draw(st.booleans()):
                item[name] = draw(localized(langs))
    elif kind == "choice":
        option_values = draw(st.lists(st.integers(-2, 12), min_size=2, max_size=4, unique=True))
        item["options"] = [{"value": v, "label": draw(localized(langs))} for v in option_values]
    else:
        if draw(st.booleans()):
            item["max_length"] = draw(st.integers(1, 100_000))
    if chosen_role == "attention_check":
        item["correct"] = draw(st.sampled_from(_allowed(item)))
    if chosen_role in ("outcome", "intent") and draw(st.booleans()):
        item["desired"] = draw(st.sampled_from(("increase", "decrease")))
    if draw(st.booleans()):
        item["label"] = draw(localized(langs))
    return item


def _scale_groups(items: list[dict[str, Any]]) -> list[list[str]]:
    """Ids of likert/slider items sharing type, points and phase: what a scale may average."""
    groups: dict[tuple[Any, ...], list[str]] = {}
    for item in items:
        if item["type"] in ("likert", "slider"):
            key = (item["type"], item.get("points"), tuple(item["phase"]))
            groups.setdefault(key, []).append(item["id"])
    return [ids for ids in groups.values() if len(ids) >= 2]


# ---------------------------------------------------------------- the study


@st.composite
def study_data(draw: Any) -> dict[str, Any]:
    listed = draw(
        st.permutations(LANGUAGE_POOL).flatmap(
            lambda p: st.integers(1, 3).map(lambda n: list(p[:n]))
        )
    )
    # The default language need not be listed first; below, `langs` puts it first.
    default = draw(st.sampled_from(listed))
    langs = [default, *(lang for lang in listed if lang != default)]
    custom = draw(st.lists(identifiers.filter(lambda v: v not in VALUES), max_size=2, unique=True))
    values = [*BUILT_IN_VALUES, *custom]
    data: dict[str, Any] = {
        "slug": draw(st.from_regex(r"[a-z0-9-]{3,20}", fullmatch=True)),
        "title": draw(localized(langs)),
        "languages": listed,
        "consent": draw(localized(langs, markdown=True)),
        "debrief": draw(localized(langs, markdown=True)),
    }
    if default != listed[0] or draw(st.booleans()):
        data["default_language"] = default
    if custom:
        data["custom_values"] = custom
    if draw(st.booleans()):
        completion: dict[str, Any] = {}
        shape = draw(st.sampled_from(("code", "redirect", "both")))
        if shape in ("code", "both"):
            completion["code"] = draw(st.from_regex(r"[A-Za-z0-9_-]{1,12}", fullmatch=True))
        if shape in ("redirect", "both"):
            completion["redirect_url"] = "https://panel.example.org/done?cc=" + draw(
                st.from_regex(r"[A-Z0-9]{4,8}", fullmatch=True)
            )
        data["completion"] = completion
    if draw(st.booleans()):
        quality: dict[str, Any] = {}
        if draw(st.booleans()):
            quality["speeder_seconds"] = draw(st.integers(0, 3_600))
        if draw(st.booleans()):
            quality["min_cell_size"] = draw(st.integers(1, 50))
        data["quality"] = quality
    if draw(st.booleans()):
        data["target_n"] = draw(st.integers(1, 100_000))

    # Arms: a control and 1-4 frame arms.
    n_frames = draw(st.integers(1, 4))
    arm_ids = draw(st.lists(identifiers, min_size=n_frames + 1, max_size=n_frames + 1, unique=True))
    scheme = draw(st.sampled_from(("simple", "complete", "blocked", "factorial")))
    if scheme == "factorial" and n_frames < 2:
        scheme = "complete"
    arms: list[dict[str, Any]] = []
    control: dict[str, Any] = {"id": arm_ids[0], "control": True}
    if draw(st.booleans()):
        control["frame"] = {
            "title": draw(localized(langs)),
            "body": draw(localized(langs, markdown=True)),
        }
    if draw(st.booleans()):
        control["label"] = draw(localized(langs))
    for arm_id in arm_ids[1:]:
        arm: dict[str, Any] = {
            "id": arm_id,
            "frame": {
                "title": draw(localized(langs)),
                "body": draw(localized(langs, markdown=True)),
            },
        }
        if draw(st.booleans()):
            arm["control"] = False
        tags = draw(st.lists(st.sampled_from(values), max_size=3, unique=True))
        if tags or draw(st.booleans()):
            arm["frame"]["values"] = tags
        if draw(st.booleans()):
            arm["label"] = draw(localized(langs))
        arms.append(arm)
    # The control's place among the arms is free.
    arms.insert(draw(st.integers(0, len(arms))), control)
    data["arms"] = arms

    # Items: a post outcome first (the plan needs one), then any others.
    n_items = draw(st.integers(1, 5))
    item_ids = draw(st.lists(identifiers, min_size=n_items + 4, max_size=n_items + 4, unique=True))
    items = [
        draw(
            item_data(
                item_ids[0],
                langs,
                values,
                item_type=draw(st.sampled_from(("likert", "slider", "binary", "choice"))),
                phase=draw(st.sampled_from((["post"], ["pre", "post"]))),
                role=draw(st.sampled_from(("outcome", "intent"))),
            )
        )
    ]
    items += [draw(item_data(i, langs, values)) for i in item_ids[1:n_items]]
    if scheme == "blocked":
        # The blocking question: required, asked before the message.
        items.append(
            draw(
                item_data(
                    item_ids[n_items],
                    langs,
                    values,
                    item_type=draw(st.sampled_from(("choice", "binary", "likert"))),
                    phase=draw(st.sampled_from((["pre"], ["pre", "post"]))),
                    role=draw(st.sampled_from(("covariate", "manipulation_check"))),
                    required=True,
                )
            )
        )
    if draw(st.booleans()):
        # Two items on one response scale, so scales appear often.
        phase = draw(st.sampled_from(PHASES))
        points = draw(st.sampled_from((5, 7)))
        kind = draw(st.sampled_from(("likert", "slider")))
        for ident in item_ids[n_items + 1 : n_items + 1 + draw(st.integers(2, 3))]:
            items.append(
                draw(
                    item_data(
                        ident,
                        langs,
                        values,
                        item_type=kind,
                        phase=phase,
                        role=draw(st.sampled_from(("covariate", "outcome", "intent"))),
                        points=points if kind == "likert" else None,
                    )
                )
            )
    order = draw(st.permutations(range(len(items))))
    items = [items[i] for i in order]
    data["items"] = items

    # Scales over items of one response scale and phase; ids distinct from item ids.
    scales: list[dict[str, Any]] = []
    taken = {i["id"] for i in items}
    for group in _scale_groups(items)[: draw(st.integers(0, 2))]:
        members = draw(
            st.lists(st.sampled_from(group), min_size=2, max_size=len(group), unique=True)
        )
        scale_id = draw(identifiers.filter(lambda s, taken=taken: s not in taken))
        taken.add(scale_id)
        scale: dict[str, Any] = {"id": scale_id, "items": members}
        if draw(st.booleans()):
            scale["value"] = draw(st.sampled_from(values))
        if draw(st.booleans()):
            scale["label"] = draw(localized(langs))
        desired = draw(st.sampled_from(("decrease", "increase", None)))
        if desired is not None:
            scale["desired"] = desired
        scales.append(scale)
    if scales or draw(st.booleans()):
        data["scales"] = scales

    data["design"] = draw(_design(scheme, data, n_frames))
    data["analysis"] = draw(_plan(items, scales))
    # `speeder` is an error without quality.speeder_seconds (no draw: examples stay as they were)
    if "speeder_seconds" not in data.get("quality", {}):
        exclude = data["analysis"].get("exclude")
        if exclude and "speeder" in exclude:
            exclude.remove("speeder")
    study = study_from_data(data)
    translation = draw(_translation(study, langs))
    if translation is not None:
        data["translation"] = translation
    # Drawn last, so that adding it left the earlier draws (and their coverage) as they were.
    if draw(st.booleans()):
        privacy: dict[str, Any] = {}
        if draw(st.booleans()):
            privacy["time_precision"] = draw(st.sampled_from(["hour", "day"]))
        if draw(st.booleans()):
            privacy["retention_days"] = draw(st.integers(1, 3_650))
        if draw(st.booleans()):
            privacy["page_title"] = draw(localized(data["languages"]))
        data["privacy"] = privacy
    # Drawn after privacy (issue 19): what a manipulation check's options mean, and
    # whether a factorial design's main effects compare each level with the control.
    arm_ids_drawn = [a["id"] for a in data["arms"]]
    for item in data["items"]:
        if item.get("role") != "manipulation_check" or item["type"] != "choice":
            continue
        for option in item["options"]:
            meaning = draw(st.sampled_from((None, "value_tag", "correct_for")))
            if meaning == "value_tag":
                option["value_tag"] = draw(st.sampled_from(values))
            elif meaning == "correct_for":
                option["correct_for"] = draw(
                    st.lists(st.sampled_from(arm_ids_drawn), min_size=1, max_size=2, unique=True)
                )
    if scheme == "factorial" and draw(st.booleans()):
        data["design"]["control_in_main_effects"] = draw(st.booleans())
    # Drawn last (issue 20): the plan's monitoring, which needs target_n (its ceiling).
    if data.get("target_n") is not None and draw(st.booleans()):
        monitoring: dict[str, Any] = {}
        if draw(st.booleans()):
            monitoring["looks"] = "anytime"
        if draw(st.booleans()):
            monitoring["stop_for_efficacy"] = draw(st.booleans())
        if draw(st.booleans()):
            monitoring["stop_for_futility"] = {
                "below": draw(st.sampled_from([0.05, 0.1, 0.2, 0.25, 1.5]))
            }
        if draw(st.booleans()):
            monitoring["tune_at"] = draw(st.integers(2, 100_000))
        data["analysis"]["monitoring"] = monitoring
    # Drawn last (issue 19): the small-sample rule and the backlash settings.
    if draw(st.booleans()):
        data["analysis"]["small_sample"] = draw(st.sampled_from(["bell_mccaffrey", "residual"]))
    if draw(st.booleans()):
        data["analysis"]["backlash_delta"] = draw(st.sampled_from([0.05, 0.1, 0.25, 1]))
    if draw(st.booleans()):
        data["analysis"]["backlash_prior_sd"] = draw(st.sampled_from([0.1, 0.2, 0.5]))
    # Drawn last (issue 21): follow-up waves asking post outcome or intent items again.
    again = [
        i["id"]
        for i in data["items"]
        if i.get("role") in ("outcome", "intent")
        and i["type"] != "text"
        and "post" in ([i["phase"]] if isinstance(i["phase"], str) else i["phase"])
    ]
    if again and draw(st.booleans()):
        names = {i["id"] for i in data["items"]} | {c["id"] for c in scales}
        names |= {"w1", "pre", "post", "scale"}
        waves, after = [], 0
        for _ in range(draw(st.integers(1, 2))):
            wave_id = draw(identifiers.filter(lambda w, names=names: w not in names))
            names.add(wave_id)
            after += draw(st.integers(1, 30))
            chosen = st.lists(st.sampled_from(again), min_size=1, max_size=len(again), unique=True)
            waves.append(
                {
                    "id": wave_id,
                    "after_days": after,
                    "window_days": draw(st.integers(1, 30)),
                    "items": draw(chosen),
                }
            )
        data["waves"] = waves
        if draw(st.booleans()):
            data["follow_up"] = draw(st.sampled_from(["code", "invitation"]))
    # Drawn last (issue 21): a screener, quotas and panel outcomes.
    _screening(draw, data)
    return data


def _phase_list(item: dict[str, Any]) -> list[str]:
    return [item["phase"]] if isinstance(item["phase"], str) else item["phase"]


def _rule(draw: Any, allowed: dict[str, list[int]], depth: int) -> dict[str, Any]:
    if depth < 3 and draw(st.integers(0, 2)) == 0:
        combine = draw(st.sampled_from(("all", "any")))
        return {combine: [_rule(draw, allowed, depth + 1) for _ in range(draw(st.integers(1, 3)))]}
    item = draw(st.sampled_from(sorted(allowed)))
    values = draw(st.lists(st.sampled_from(allowed[item]), min_size=1, max_size=3, unique=True))
    return {"item": item, draw(st.sampled_from(("in", "not_in"))): values}


def _outcome(draw: Any, prolific: bool) -> dict[str, Any]:
    code = draw(st.from_regex(r"[A-Za-z0-9_-]{1,12}", fullmatch=True))
    shape = draw(st.sampled_from(("code", "redirect", "both")))
    given: dict[str, Any] = {"code": code} if shape != "redirect" else {}
    if shape != "code":
        base = (
            "https://app.prolific.com/submissions/complete"
            if prolific
            else "https://p.example.org/r"
        )
        given["redirect"] = f"{base}?cc={code}"
    return given


def _screening(draw: Any, data: dict[str, Any]) -> None:
    """A screener over required pre questions with fixed answers, quotas, panel outcomes."""
    allowed = {
        i["id"]: _allowed(i)
        for i in data["items"]
        if "pre" in _phase_list(i)
        and i.get("required", True)
        and i["type"] in ("choice", "binary", "likert")
    }
    screen_out = False
    if allowed and draw(st.booleans()):
        asked = draw(st.lists(st.sampled_from(sorted(allowed)), min_size=1, unique=True))
        screener: dict[str, Any] = {"items": asked}
        if draw(st.booleans()):
            screener["screen_out"] = _rule(draw, {i: allowed[i] for i in asked}, 1)
            screen_out = True
        data["screener"] = screener
    if allowed and draw(st.booleans()):
        variable = draw(st.sampled_from(sorted(allowed)))
        design = data["design"]
        if design.get("block_by") == variable and design.get("strata"):
            cells = list(design["strata"])
        else:
            cells = [str(v) for v in allowed[variable]]
        chosen = draw(st.lists(st.sampled_from(cells), min_size=1, max_size=3, unique=True))
        data["quota"] = {variable: {c: draw(st.integers(1, 5_000)) for c in chosen}}
    if draw(st.booleans()):
        name = draw(st.sampled_from(("prolific", "mturk", "generic")))
        reachable = ["completed", "consent_refused"]
        if screen_out:
            reachable.append("screened_out")
        if "quota" in data:
            reachable.append("over_quota")
        if any(i.get("role") == "attention_check" for i in data["items"]):
            reachable.append("attention_failed")
        chosen = draw(st.lists(st.sampled_from(reachable), unique=True))
        outcomes = {o: _outcome(draw, name == "prolific") for o in chosen}
        data.pop("completion", None)  # a study gives panel outcomes or completion, not both
        data["panel"] = {"name": name, "outcomes": outcomes}


@st.composite
def _design(draw: Any, scheme: str, data: dict[str, Any], n_frames: int) -> dict[str, Any]:
    arms = data["arms"]
    design: dict[str, Any] = {"scheme": scheme, "seed": draw(st.integers(0, 2**31 - 1))}
    weights = None
    if draw(st.booleans()):
        weights = {a["id"]: draw(st.integers(1, 4)) for a in arms}
        design["weights"] = weights
    total = sum(weights.values()) if weights else len(arms)
    if scheme != "simple" and draw(st.booleans()):
        design["block_size"] = total * draw(st.integers(1, 3))
    if scheme == "blocked":
        blocker = next(
            i
            for i in data["items"]
            if "pre" in i["phase"]
            and i.get("required", True)
            and i["type"] in ("choice", "binary", "likert")
        )
        design["block_by"] = blocker["id"]
        if draw(st.booleans()):
            answers = _allowed(blocker)
            labels = draw(st.lists(identifiers, min_size=1, max_size=len(answers), unique=True))
            groups: dict[str, list[int]] = {label: [] for label in labels}
            for position, answer in enumerate(answers):
                # Each group gets at least one answer, then the rest anywhere.
                label = (
                    labels[position] if position < len(labels) else draw(st.sampled_from(labels))
                )
                groups[label].append(answer)
            design["strata"] = groups
    if scheme == "factorial":
        if n_frames == 4 and draw(st.booleans()):
            names = draw(st.lists(identifiers, min_size=2, max_size=2, unique=True))
            factors = {
                name: draw(st.lists(identifiers, min_size=2, max_size=2, unique=True))
                for name in names
            }
        else:
            factors = {
                draw(identifiers): draw(
                    st.lists(identifiers, min_size=n_frames, max_size=n_frames, unique=True)
                )
            }
        cells = list(itertools.product(*factors.values()))
        cells = draw(st.permutations(cells))
        frames = [a for a in arms if not a.get("control")]
        for arm, cell in zip(frames, cells, strict=True):
            arm["factors"] = dict(zip(factors, cell, strict=True))
        design["factors"] = factors
    return design


def _phases(name: str, items: list[dict[str, Any]], scales: list[dict[str, Any]]) -> list[str]:
    by_id = {i["id"]: i for i in items}
    if name in by_id:
        return by_id[name]["phase"]
    scale = next(s for s in scales if s["id"] == name)
    return by_id[scale["items"][0]]["phase"]


@st.composite
def _plan(draw: Any, items: list[dict[str, Any]], scales: list[dict[str, Any]]) -> dict[str, Any]:
    names = [i["id"] for i in items if i["type"] != "text"] + [s["id"] for s in scales]
    post = [n for n in names if "post" in _phases(n, items, scales)]
    pre = [n for n in names if "pre" in _phases(n, items, scales)]
    outcomes = draw(st.permutations(post))
    n_primary = draw(st.integers(1, len(outcomes)))
    plan: dict[str, Any] = {"primary": list(outcomes[:n_primary])}
    secondary = (
        draw(st.lists(st.sampled_from(outcomes[n_primary:]), unique=True))
        if outcomes[n_primary:]
        else []
    )
    if secondary or draw(st.booleans()):
        plan["secondary"] = secondary
    for key in ("covariates", "moderators"):
        chosen = draw(st.lists(st.sampled_from(pre), unique=True)) if pre else []
        if chosen or draw(st.booleans()):
            plan[key] = chosen
    if draw(st.booleans()):
        plan["alpha"] = draw(st.sampled_from((0.05, 0.01, 0.1, 0.001, 0.025, 0.0125, 0.2)))
    if draw(st.booleans()):
        plan["correction"] = draw(st.sampled_from(("holm", "bh", "none", "bonferroni")))
    if draw(st.booleans()):
        plan["exclude"] = draw(
            st.lists(st.sampled_from(("attention_failed", "speeder", "honeypot")), unique=True)
        )
    return plan


@st.composite
def _translation(draw: Any, study: Study, langs: list[str]) -> dict[str, Any] | None:
    if not draw(st.booleans()):
        return None
    section: dict[str, Any] = {}
    registers = {}
    for lang in langs:
        offered = CATALOG_REGISTERS.get(lang.split("-")[0], ())
        if offered and draw(st.booleans()):
            registers[lang] = draw(st.sampled_from(offered))
    if registers:
        section["registers"] = registers
    msgids = interface_msgids()
    interface = {}
    for lang in langs:
        if draw(st.booleans()):
            chosen = draw(st.lists(st.sampled_from(msgids), min_size=1, max_size=4, unique=True))
            interface[lang] = {m: f"{lang}: {m}" for m in chosen}
    if interface:
        section["interface"] = interface
    keys = [unit.key for unit in text_units(study)]
    untranslated = {}
    for lang in langs[1:]:
        if draw(st.booleans()):
            untranslated[lang] = draw(
                st.lists(st.sampled_from(keys), min_size=1, max_size=5, unique=True)
            )
    if untranslated:
        section["untranslated"] = untranslated
    return section or None


def studies() -> st.SearchStrategy[Study]:
    return study_data().map(study_from_data)
