"""Arms and frames of a study as the studio's frames page edits them (pure: no Flask request,
no database).

Each function takes the current spec and the campaigner's choice and returns the edited
spec, raising StudyError with study-file locations (shown next to the fields). Like
framelab.domain.builder.editing, the data keep their original shapes, so an edit that changes
nothing gives the same content hash.

Weights and block size follow the arms: a new arm gets weight 1 when the design has
weights, a removed arm's weight goes, and an explicit block size that no longer fits the
total weight moves to the nearest size that does (see `build_design.fit_block_size`).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping, Sequence
from typing import Any

from framelab.domain.builder.build_design import (
    fit_block_size,
    plain_errors,
    total_weight,
    valid_block_sizes,
)
from framelab.domain.builder.editing import keep_order, localized_data
from framelab.domain.study import Study, StudyError, study_from_data

PLACEHOLDER_TITLE = "TO FILL: title of the message"
PLACEHOLDER_BODY = "TO FILL: the message of this frame.\n"
PLACEBO_TITLE = "TO FILL: title of the placebo text"
PLACEBO_BODY = (
    "TO FILL: a neutral text of about the same length as the frames, on a topic "
    "unrelated to your campaign.\n"
)


# ------------------------------------------------------------------ helpers


def _data(spec: Study) -> dict[str, Any]:
    return spec.model_dump(mode="json")


def _index(data: Mapping[str, Any], arm_id: str) -> int:
    for index, arm in enumerate(data["arms"]):
        if arm["id"] == arm_id:
            return index
    known = ", ".join(a["id"] for a in data["arms"])
    raise StudyError([("arms", f"'{arm_id}' is not an arm of this study (arms: {known})")])


def _text_in_every_language(spec: Study, text: str) -> Any:
    """One text for every language, shaped as the study writes texts (plain when it can)."""
    if len(spec.languages) == 1:
        return text
    return {lang: text for lang in spec.languages}


def _free_id(data: Mapping[str, Any], base: str) -> str:
    taken = {a["id"] for a in data["arms"]}
    base = base[:60]
    if base not in taken:
        return base
    number = 2
    while f"{base}_{number}" in taken:
        number += 1
    return f"{base}_{number}"


def _finish(data: dict[str, Any]) -> Study:
    """Weights and block size made to fit the arms, then validated."""
    design = data["design"]
    arm_ids = [a["id"] for a in data["arms"]]
    weights = design.get("weights")
    if weights is not None:
        filled = {arm_id: weights.get(arm_id, 1) for arm_id in arm_ids}
        # Tidied only when the arms changed: weights a study file states explicitly, even
        # all 1, stay as written through edits that do not touch them (same hash).
        if filled != weights:
            design["weights"] = filled if any(w != 1 for w in filled.values()) else None
    total = sum((design.get("weights") or {a: 1 for a in arm_ids}).values())
    if design.get("block_size") is not None and design["block_size"] % total:
        design["block_size"] = fit_block_size(design["block_size"], total)
    try:
        return study_from_data(data)
    except StudyError as exc:
        raise StudyError(plain_errors(exc.errors)) from None


# ------------------------------------------------------------------ arms


def arm_id_for(name: str) -> str:
    """An arm id made from the name a campaigner gives a frame ("Fairness" -> fairness);
    empty when the name has no Latin letters or digits to make one from."""
    ident = re.sub(r"[^a-z0-9]+", "_", name.strip().lower()).strip("_")[:60]
    if ident and not ident[0].isalpha():
        ident = f"frame_{ident}"
    return ident


def _label_data(spec: Study, names: Mapping[str, str]) -> Any:
    """A label from names per language: None when all are empty; a language left empty
    takes the default language's name (or the first given), to be translated later."""
    cleaned = {lang: (names.get(lang) or "").strip() for lang in spec.languages}
    given = [text for text in cleaned.values() if text]
    if not given:
        return None
    fallback = cleaned[spec.default_language] or given[0]
    filled = {lang: text or fallback for lang, text in cleaned.items()}
    if len(spec.languages) == 1:
        return filled[spec.default_language]
    return filled


def add_frame(
    spec: Study,
    *,
    names: Mapping[str, str] | None = None,
    factors: Mapping[str, str] | None = None,
) -> Study:
    """The spec with a new frame arm at the end, its texts to be written ("TO FILL").

    `names` (per language, optional) become the arm's label, and its id is made from the
    default language's name (made unique: fairness, fairness_2); without a name the id is
    frame_<n>. People read the name; the id only names the arm in the data.
    """
    data = _data(spec)
    label = _label_data(spec, names or {})
    named = ""
    if label is not None:
        named = arm_id_for((names or {}).get(spec.default_language) or "")
    new_id = _free_id(data, named or f"frame_{len(spec.frame_arms) + 1}")
    arm: dict[str, Any] = {
        "id": new_id,
        "frame": {
            "title": _text_in_every_language(spec, PLACEHOLDER_TITLE),
            "body": _text_in_every_language(spec, PLACEHOLDER_BODY),
            "values": [],
        },
    }
    if label is not None:
        arm["label"] = label
    if spec.design.scheme == "factorial":
        arm["factors"] = dict(factors or {})
    data["arms"].append(arm)
    return _finish(data)


def duplicate_frame(spec: Study, arm_id: str) -> Study:
    """A copy of a frame arm right after it ("same text, new angle"), under a new id.

    The copy keeps the texts and value tags; its label is not copied (two arms with one
    label would be indistinguishable in the codebook). In a factorial design the copy
    keeps the factor levels, which the campaigner then changes.
    """
    data = _data(spec)
    index = _index(data, arm_id)
    original = data["arms"][index]
    if original.get("control"):
        raise StudyError(
            [(f"arms[{index}]", "the control cannot be duplicated; add a frame instead")]
        )
    copy_ = copy.deepcopy(original)
    copy_["id"] = _free_id(data, f"{arm_id}_variant")
    copy_.pop("label", None)
    data["arms"].insert(index + 1, copy_)
    weights = data["design"].get("weights")
    if weights is not None:
        weights[copy_["id"]] = weights.get(arm_id, 1)
    return _finish(data)


def move_arm(spec: Study, arm_id: str, offset: int) -> Study:
    """The arm moved `offset` places (-1 up, +1 down); at either end it stays."""
    data = _data(spec)
    index = _index(data, arm_id)
    target = min(max(index + offset, 0), len(data["arms"]) - 1)
    if target == index:
        return spec
    arm = data["arms"].pop(index)
    data["arms"].insert(target, arm)
    return _finish(data)


def remove_arm(spec: Study, arm_id: str) -> Study:
    """The spec without the arm; its weight goes and the block size is refitted."""
    data = _data(spec)
    index = _index(data, arm_id)
    if data["arms"][index].get("control"):
        raise StudyError(
            [
                (
                    f"arms[{index}]",
                    "the control cannot be removed: every study compares its frames with "
                    "one control. Mark another arm as the control first.",
                )
            ]
        )
    if len(spec.frame_arms) == 1:
        raise StudyError(
            [(f"arms[{index}]", "this is the only frame; add another before removing it")]
        )
    data["arms"].pop(index)
    weights = data["design"].get("weights")
    if weights is not None:
        weights.pop(arm_id, None)
    return _finish(data)


def make_control(spec: Study, arm_id: str) -> Study:
    """The arm becomes the control; its text becomes the placebo (value tags and factor
    levels dropped). The former control goes when it showed no message, else it becomes
    a frame arm with its placebo text, for the campaigner to rewrite or remove."""
    data = _data(spec)
    index = _index(data, arm_id)
    arm = data["arms"][index]
    if arm.get("control"):
        return spec
    old = next(i for i, a in enumerate(data["arms"]) if a.get("control"))
    former = data["arms"][old]
    former["control"] = False
    arm["control"] = True
    arm.pop("factors", None)
    if arm.get("frame"):
        arm["frame"]["values"] = []
    if former.get("frame") is None:
        data["arms"].pop(old)
        weights = data["design"].get("weights")
        if weights is not None:
            weights.pop(former["id"], None)
    return _finish(data)


def set_control_message(spec: Study, placebo: bool) -> Study:
    """The control shows a placebo text (to be written) or no message at all."""
    data = _data(spec)
    index = next(i for i, a in enumerate(data["arms"]) if a.get("control"))
    control = data["arms"][index]
    if placebo and control.get("frame") is None:
        control["frame"] = {
            "title": _text_in_every_language(spec, PLACEBO_TITLE),
            "body": _text_in_every_language(spec, PLACEBO_BODY),
            "values": [],
        }
    elif not placebo:
        control["frame"] = None
    return _finish(data)


def edit_arm(
    spec: Study,
    arm_id: str,
    *,
    values: Sequence[str] | None = None,
    factors: Mapping[str, str] | None = None,
    labels: Mapping[str, str] | None = None,
) -> Study:
    """The arm's value tags, factor levels (factorial designs) and codebook label.

    `None` leaves a part as it is; labels left empty in every language remove the label
    (the codebook then shows the arm's id).
    """
    data = _data(spec)
    index = _index(data, arm_id)
    arm = data["arms"][index]
    if values is not None and arm.get("frame") is not None:
        arm["frame"]["values"] = keep_order(arm["frame"].get("values") or [], values)
    if factors is not None and spec.design.scheme == "factorial" and not arm.get("control"):
        arm["factors"] = dict(factors)
    if labels is not None:
        cleaned = {lang: (text or "").strip() for lang, text in labels.items()}
        if not any(cleaned.values()):
            arm.pop("label", None)
        else:
            arm["label"] = localized_data(arm.get("label"), cleaned, spec.default_language)
    return _finish(data)


def set_factors(spec: Study, factors: Mapping[str, Sequence[str]]) -> Study:
    """The factorial design's factors and their levels.

    A level renamed in place (same factor, same position) is renamed in every arm too.
    """
    data = _data(spec)
    before = spec.design.factors or {}
    renames: dict[str, dict[str, str]] = {}
    for name, levels in factors.items():
        old = before.get(name, [])
        renames[name] = {
            o: n for o, n in zip(old, levels, strict=False) if o != n and o not in levels
        }
    for arm in data["arms"]:
        for name, level in (arm.get("factors") or {}).items():
            arm["factors"][name] = renames.get(name, {}).get(level, level)
    data["design"]["factors"] = {name: list(levels) for name, levels in factors.items()}
    return _finish(data)


def set_allocation(spec: Study, weights: Mapping[str, int], block_size: int | None) -> Study:
    """Arm weights and block size; weights of 1 everywhere are left out, as are block sizes
    equal to the total weight when the study had none (so an unchanged form keeps the hash).
    """
    data = _data(spec)
    design = data["design"]
    clean = {arm.id: int(weights.get(arm.id, 1)) for arm in spec.arms}
    problems = [
        (f"design.weights.{arm_id}", f"expected a whole number from 1 to 100, got {weight}")
        for arm_id, weight in clean.items()
        if not 1 <= weight <= 100
    ]
    if problems:
        raise StudyError(problems)
    unchanged = clean == spec.design.weights
    design["weights"] = clean if unchanged or any(w != 1 for w in clean.values()) else None
    total = total_weight(clean)
    if design["scheme"] == "simple":
        design["block_size"] = None
    elif block_size is None:
        design["block_size"] = fit_block_size(design.get("block_size"), total)
    elif block_size % total:
        raise StudyError(
            [
                (
                    "design.block_size",
                    f"{block_size} does not fit the arm weights: choose one of "
                    f"{', '.join(map(str, valid_block_sizes(clean)))}",
                )
            ]
        )
    elif spec.design.block_size is None and block_size == total:
        design["block_size"] = None
    else:
        design["block_size"] = block_size
    design = {k: v for k, v in design.items() if v is not None}
    data["design"] = design
    return _finish(data)
