"""The analysis plan: parsing, validation against the data, and its hash.

A plan is a mapping (or a YAML/JSON file or text) with the keys documented in
``docs/analysis.md``. :func:`load_plan` validates the shape and fills defaults;
:func:`check_columns` validates it against a DataFrame. Malformed plans raise
``ValueError`` naming the key and what was expected.

Examples
--------
>>> import pandas as pd
>>> plan = load_plan("{arm: arm, control: c, outcomes: [y]}")  # YAML text
>>> plan.arm, plan.control, [o.name for o in plan.primary_outcomes]
('arm', 'c', ['y'])
>>> check_columns(plan, pd.DataFrame({"arm": ["c", "t"], "y": [1, 2]}))
>>> plan_hash(plan.raw)[:12]
'...'
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from analysis._data import arm_labels, check_control, require_columns
from analysis._plan_fields import (
    Wave,
    cut_points_field,
    levels_field,
    localized_field,
    names_field,
    number_field,
    range_field,
    scales_field,
    waves_field,
)
from analysis.inference import CORRECTIONS
from analysis.monitoring import Monitoring, load_monitoring
from analysis.small_sample import SMALL_SAMPLE

__all__ = ["OUTCOME_TYPES", "Outcome", "Plan", "check_columns", "load_plan", "plan_hash"]

OUTCOME_TYPES = ("continuous", "binary", "ordinal")
PRIMARY_METHODS = ("difference_in_means", "lin")
KNOWN_KEYS = {
    "arm", "control", "outcomes", "covariates", "blocks", "moderators", "alpha",
    "correction", "exclude", "status", "weights", "min_cell_size", "equivalence_bound",
    "equivalence_units", "ri_draws", "seed", "value_match", "arm_labels", "primary_method",
    "levels", "labels", "value_labels", "language", "manipulation_checks", "factors",
    "control_in_main_effects", "small_sample", "backlash_delta",
    "backlash_prior_sd", "monitoring", "cut_points", "scales", "waves",
}  # fmt: skip
OUTCOME_KEYS = {"name", "type", "baseline", "label", "units", "primary", "desired", "range"}
DIRECTIONS = ("increase", "decrease")


@dataclass(frozen=True)
class Outcome:
    """One outcome column. ``label`` is a text or a mapping language -> text;
    ``desired`` the direction the campaign counts as success; ``range`` the answer
    scale's (low, high) end points when known (e.g. (1, 7) for a 7-point scale)."""

    name: str
    type: str = "continuous"
    baseline: str | None = None
    label: str | Mapping[str, str] | None = None
    units: str | None = None
    primary: bool = False
    desired: str = "increase"
    range: tuple[float, float] | None = None


@dataclass(frozen=True)
class Plan:
    """A validated plan; ``raw`` is the mapping as given (hashed into ``plan_hash``)."""

    arm: str
    control: str
    outcomes: tuple[Outcome, ...]
    covariates: tuple[str, ...] = ()
    blocks: str | None = None
    moderators: tuple[str, ...] = ()
    alpha: float = 0.05
    correction: str = "holm"
    exclude: Mapping[str, tuple] = field(default_factory=dict)
    status: str | None = None
    weights: Mapping[str, float] | None = None
    min_cell_size: int = 10
    equivalence_bound: float = 0.1
    equivalence_units: str = "sd"
    ri_draws: int = 10_000
    seed: int = 0
    value_match: Mapping[str, str] = field(default_factory=dict)
    arm_labels: Mapping[str, str] = field(default_factory=dict)
    primary_method: str = "difference_in_means"
    # column -> its levels in declared order (the first is the reference level)
    levels: Mapping[str, tuple] = field(default_factory=dict)
    # continuous moderator -> the points its subgroups are split at (else tertiles)
    cut_points: Mapping[str, tuple[float, ...]] = field(default_factory=dict)
    language: str = "en"
    # Degrees of freedom of HC2 regression t tests: Bell-McCaffrey or residual n - k.
    small_sample: str = "bell_mccaffrey"
    # Backlash: delta (None: equivalence_bound), skeptical prior SD (None: none); equivalence_units
    backlash_delta: float | None = None
    backlash_prior_sd: float | None = None
    # Multi-item scales: index column -> its item columns (for reliability).
    scales: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # Anytime-valid monitoring (analysis.sequential): looks, stopping rules, ceiling.
    monitoring: Monitoring | None = None
    waves: tuple[Wave, ...] = ()
    raw: Mapping[str, Any] = field(default_factory=dict)
    unknown_keys: tuple[str, ...] = ()

    @property
    def primary_outcomes(self) -> tuple[Outcome, ...]:
        return tuple(o for o in self.outcomes if o.primary)

    def text(self, label: str | Mapping[str, str] | None, fallback: str) -> str:
        """A label in the plan's language (a text, or a mapping language -> text)."""
        if isinstance(label, Mapping):
            label = label.get(self.language) or next(iter(label.values()), None)
        return str(label) if label else fallback


def plan_hash(raw: Mapping[str, Any]) -> str:
    """SHA-256 hex of the canonical JSON of the plan (sorted keys, no whitespace, UTF-8).

    Parameters
    ----------
    raw : mapping
        The plan as given (``Plan.raw``).

    Returns
    -------
    str
        64 hexadecimal digits; equal plans (whatever their key order) hash equal.

    Notes
    -----
    hash = SHA-256(json.dumps(raw, sort_keys=True, separators=(",", ":"),
    ensure_ascii=False)), so a reader can recompute it with any JSON library.

    References
    ----------
    NIST FIPS 180-4 (2015), Secure Hash Standard; RFC 8785 (JSON canonicalization), whose
    key ordering this follows for the plain values a plan holds.

    Examples
    --------
    >>> plan_hash({"b": 1, "a": [1, 2]}) == plan_hash({"a": [1, 2], "b": 1})
    True
    >>> len(plan_hash({"arm": "arm"}))
    64
    """
    text = json.dumps(raw, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _outcome(item: Any, i: int) -> Outcome:
    where = f"outcomes[{i}]"
    if isinstance(item, str):
        item = {"name": item}
    if not isinstance(item, Mapping) or not isinstance(item.get("name"), str):
        raise ValueError(f"{where}: expected a mapping with a 'name' (the outcome column)")
    unknown = set(item) - OUTCOME_KEYS
    if unknown:
        raise ValueError(
            f"{where}: unknown key {sorted(unknown)[0]!r} (allowed: {', '.join(sorted(OUTCOME_KEYS))})"
        )
    kind = item.get("type", "continuous")
    if kind not in OUTCOME_TYPES:
        raise ValueError(f"{where}.type: expected one of {', '.join(OUTCOME_TYPES)}, got {kind!r}")
    desired = item.get("desired", "increase")
    if desired not in DIRECTIONS:
        raise ValueError(f"{where}.desired: expected increase or decrease, got {desired!r}")
    return Outcome(
        name=item["name"],
        type=kind,
        baseline=item.get("baseline"),
        label=localized_field(item.get("label"), f"{where}.label"),
        units=item.get("units"),
        primary=bool(item.get("primary", False)),
        desired=desired,
        range=range_field(item.get("range"), f"{where}.range"),
    )


def load_plan(source: Mapping[str, Any] | Plan | str | Path) -> Plan:
    """Parse and validate a plan given as a mapping, a YAML/JSON file path, or YAML text.

    Parameters
    ----------
    source : mapping, Plan, str or Path
        The plan (keys in ``docs/analysis.md``): a mapping, a path to a ``.yaml``,
        ``.yml`` or ``.json`` file, or YAML text; a :class:`Plan` is returned as is.

    Returns
    -------
    Plan
        The validated plan with defaults filled (the first outcome is primary when
        none is marked, ``correction="holm"``, ``alpha=0.05``, ``ri_draws=10000``);
        ``raw`` keeps the mapping as given and ``unknown_keys`` the keys not used.

    Notes
    -----
    Validation is of the plan alone; :func:`check_columns` checks it against the data.
    Every error is a ``ValueError`` naming the key (``outcomes[1].type: ...``).

    References
    ----------
    Nosek, B. A. et al. (2018). The preregistration revolution. PNAS 115(11), 2600-2606.

    Examples
    --------
    >>> plan = load_plan({"arm": "arm", "control": "control", "outcomes": [{"name": "y"}]})
    >>> plan.outcomes[0].primary, plan.correction, plan.ri_draws
    (True, 'holm', 10000)
    """
    if isinstance(source, Plan):
        return source
    if isinstance(source, Path) or (
        isinstance(source, str)
        and "\n" not in source
        and Path(source).suffix in (".yaml", ".yml", ".json")
    ):
        source = Path(source).read_text(encoding="utf-8")
    raw = yaml.safe_load(source) if isinstance(source, str) else source
    if not isinstance(raw, Mapping):
        raise ValueError("plan: expected a mapping of plan keys (arm, control, outcomes, ...)")
    raw = json.loads(json.dumps(raw, default=str))  # plain, JSON-able copy for hashing/meta
    for key in ("arm", "control", "outcomes"):
        if raw.get(key) in (None, "", []):
            raise ValueError(f"{key}: required plan key is missing")
    if not isinstance(raw["arm"], str):
        raise ValueError(f"arm: expected the name of the arm column, got {raw['arm']!r}")
    if not isinstance(raw["outcomes"], list):
        raise ValueError("outcomes: expected a list of outcomes ({name, type, baseline})")
    outcomes = [_outcome(item, i) for i, item in enumerate(raw["outcomes"])]
    if len({o.name for o in outcomes}) != len(outcomes):
        raise ValueError("outcomes: each outcome column may be listed only once")
    if not any(o.primary for o in outcomes):
        outcomes[0] = Outcome(**{**outcomes[0].__dict__, "primary": True})
    correction = raw.get("correction", "holm")
    if correction not in CORRECTIONS:
        raise ValueError(
            f"correction: expected one of {', '.join(CORRECTIONS)}, got {correction!r}"
        )
    primary_method = raw.get("primary_method", "difference_in_means")
    if primary_method not in PRIMARY_METHODS:
        raise ValueError(
            f"primary_method: expected one of {', '.join(PRIMARY_METHODS)}, got {primary_method!r}"
        )
    covariates = names_field(raw.get("covariates"), "covariates")
    if primary_method == "lin" and not covariates:
        raise ValueError("primary_method: 'lin' needs at least one entry in covariates")
    exclude = raw.get("exclude") or {}
    if isinstance(exclude, list):  # the study file's flag list: exclude rows where flag is true
        exclude = {flag: True for flag in exclude}
    if not isinstance(exclude, Mapping):
        raise ValueError("exclude: expected a mapping column -> value (or list of values)")
    exclude = {k: tuple(v) if isinstance(v, list) else (v,) for k, v in exclude.items()}
    ri_draws = raw.get("ri_draws", 10_000)
    if isinstance(ri_draws, bool) or not isinstance(ri_draws, int) or ri_draws < 100:
        raise ValueError(f"ri_draws: expected an integer of at least 100, got {ri_draws!r}")
    seed = raw.get("seed")
    if seed is None:  # reproducible without a seed: derive one from the plan itself
        seed = int(plan_hash(raw)[:8], 16)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed: expected a non-negative integer, got {seed!r}")
    min_cell = raw.get("min_cell_size", 10)
    if isinstance(min_cell, bool) or not isinstance(min_cell, int) or min_cell < 1:
        raise ValueError(f"min_cell_size: expected a positive integer, got {min_cell!r}")
    cut_points = cut_points_field(
        raw.get("cut_points"), names_field(raw.get("moderators"), "moderators")
    )
    units = raw.get("equivalence_units", "sd")
    if units not in ("sd", "raw"):
        raise ValueError(f"equivalence_units: expected 'sd' or 'raw', got {units!r}")
    for key in ("weights", "value_match", "arm_labels"):
        if raw.get(key) is not None and not isinstance(raw[key], Mapping):
            raise ValueError(f"{key}: expected a mapping keyed by arm label")
    for key in ("labels", "value_labels"):
        if raw.get(key) is not None and not isinstance(raw[key], Mapping):
            raise ValueError(f"{key}: expected a mapping keyed by column name")
    small_sample = raw.get("small_sample", "bell_mccaffrey")
    if small_sample not in SMALL_SAMPLE:
        raise ValueError(
            f"small_sample: expected one of {', '.join(SMALL_SAMPLE)}, got {small_sample!r}"
        )
    backlash = {
        key: None if raw.get(key) is None else number_field(raw, key, 0, 0, float("inf"))
        for key in ("backlash_delta", "backlash_prior_sd")
    }
    weights = raw.get("weights")
    if weights is not None:
        weights = {str(k): number_field(weights, k, 1, 0, float("inf")) for k in weights}
    return Plan(
        arm=raw["arm"],
        control=str(raw["control"]),
        outcomes=tuple(outcomes),
        covariates=covariates,
        blocks=raw.get("blocks"),
        moderators=names_field(raw.get("moderators"), "moderators"),
        alpha=number_field(raw, "alpha", 0.05, 0, 0.5),
        correction=correction,
        exclude=exclude,
        status=raw.get("status"),
        weights=weights,
        min_cell_size=min_cell,
        cut_points=cut_points,
        equivalence_bound=number_field(raw, "equivalence_bound", 0.1, 0, float("inf")),
        equivalence_units=units,
        ri_draws=ri_draws,
        seed=seed,
        value_match={str(k): v for k, v in (raw.get("value_match") or {}).items()},
        arm_labels={
            str(k): localized_field(v, f"arm_labels.{k}") if isinstance(v, Mapping) else str(v)
            for k, v in (raw.get("arm_labels") or {}).items()
        },
        primary_method=primary_method,
        levels=levels_field(raw),
        language=str(raw.get("language") or "en"),
        small_sample=small_sample,
        **backlash,
        scales=scales_field(raw.get("scales")),
        monitoring=load_monitoring(raw.get("monitoring")),
        waves=waves_field(raw.get("waves")),
        raw=raw,
        unknown_keys=tuple(sorted(set(raw) - KNOWN_KEYS)),
    )


def check_columns(plan: Plan, df: pd.DataFrame) -> None:
    """Raise ValueError if the plan names a column the data lacks or an unknown control.

    Parameters
    ----------
    plan : Plan
        A plan from :func:`load_plan`.
    df : DataFrame
        The data, one row per participant.

    Returns
    -------
    None
        Returns quietly when every column the plan names is present.

    Notes
    -----
    A control the plan lists (in ``arm_labels`` or ``weights``) may have no participants
    yet, which the results report as too few; an unlisted, absent control is a typo.

    References
    ----------
    The plan's keys: ``docs/analysis.md``.

    Examples
    --------
    >>> import pandas as pd
    >>> plan = load_plan({"arm": "arm", "control": "c", "outcomes": ["y"]})
    >>> check_columns(plan, pd.DataFrame({"arm": ["c", "t"], "x": [1, 2]}))
    Traceback (most recent call last):
    ...
    ValueError: ...'y'...
    """
    require_columns(df, [plan.arm], "arm column")
    for o in plan.outcomes:
        require_columns(df, [o.name], "outcome")
        if o.baseline:
            require_columns(df, [o.baseline], f"baseline of outcome {o.name!r}:")
    require_columns(df, list(plan.covariates), "covariate")
    require_columns(df, list(plan.moderators), "moderator")
    for column, items in plan.scales.items():
        require_columns(df, list(items), f"item of scale {column!r}:")
    require_columns(df, list(plan.exclude), "exclude column")
    for w in plan.waves:
        require_columns(df, w.columns(o.name for o in plan.outcomes), f"column of wave {w.id!r}:")
    require_columns(df, list(plan.value_match.values()), "value_match column")
    if plan.blocks:
        require_columns(df, [plan.blocks], "blocks column")
    if plan.status:
        require_columns(df, [plan.status], "status column")
    if len(df) == 0:
        raise ValueError("data: the table has no rows (expected one row per participant)")
    if plan.control not in declared_arms(plan):
        # a control the plan does not list is a typo; a listed one may simply have no
        # participants yet, which the results report as too few rather than refuse
        check_control(arm_labels(df, plan.arm), plan.arm, plan.control)


def declared_arms(plan: Plan) -> list[str]:
    """The arms the plan lists (arm labels and design weights), in the plan's order."""
    arms = [*plan.arm_labels, *(plan.weights or {})]
    return list(dict.fromkeys(str(a) for a in arms))
