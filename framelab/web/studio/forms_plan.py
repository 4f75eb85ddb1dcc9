"""Forms of the plan and power pages: the analysis plan, the target sample and the power
planner (its numbers finite only)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask_wtf import FlaskForm
from wtforms import (
    DecimalField,
    Field,
    IntegerField,
    SelectField,
    SubmitField,
)
from wtforms.validators import (
    InputRequired,
    NumberRange,
    Optional,
)
from wtforms.widgets import HiddenInput

from framelab.domain.study import Study
from framelab.web.studio.forms import (
    MultiCheckboxField,
    Places,
    derived_form,
)

# Plain words for the multiple-comparison corrections; the method's name stays in brackets.
CORRECTION_CHOICES = {
    "holm": "Keep the overall false-alarm risk at the level above (Holm; recommended)",
    "bonferroni": "The same, more cautiously (Bonferroni)",
    "bh": "Allow a few false alarms among many findings (Benjamini-Hochberg)",
    "none": "No allowance: each frame on its own (none)",
}


class FiniteDecimalField(DecimalField):
    """A decimal field that takes finite numbers only.

    Python's Decimal reads "sNaN", "NaN" and "Infinity"; a signalling NaN then failed
    the range check's comparison and float() (a 500) instead of showing a form error.
    """

    def process_formdata(self, valuelist: list[Any]) -> None:
        super().process_formdata(valuelist)
        if valuelist and self.data is not None and not self.data.is_finite():
            self.data = None
            raise ValueError("Enter a number, for example 0.05 (not NaN or infinity).")


class PowerForm(FlaskForm):
    """The power planner: a GET form (changes nothing, so no CSRF token needed)."""

    class Meta:
        csrf = False

    effect = FiniteDecimalField(
        "Expected effect, in standard deviations (Cohen's d)",
        places=3,
        default=0.15,
        validators=[NumberRange(0.01, 2)],
    )
    difference = FiniteDecimalField(
        "Expected difference in outcome points",
        places=2,
        validators=[Optional(), NumberRange(0.001, 100)],
    )
    outcome_sd = FiniteDecimalField(
        "and the outcome's standard deviation (SD)",
        places=2,
        validators=[Optional(), NumberRange(0.001, 100)],
    )
    n_per_arm = IntegerField(
        "Completed participants per arm", validators=[Optional(), NumberRange(2, 1_000_000)]
    )
    attrition = FiniteDecimalField(
        "Expected drop-out (%)",
        description="Of every 100 who start, how many leave before the end; 15 is common online.",
        places=0,
        default=15,
        validators=[NumberRange(0, 90)],
    )
    alpha = FiniteDecimalField(
        "Risk of a false alarm (significance level, alpha)",
        description="0.05: a frame that does nothing is declared to work 5 times in 100.",
        places=3,
        default=0.05,
        validators=[NumberRange(0.001, 0.2)],
    )
    correction = SelectField(
        "Allowance for testing several frames",
        choices={k: v for k, v in CORRECTION_CHOICES.items() if k != "bh"},
        default="holm",
    )
    r2 = FiniteDecimalField(
        "How much the questions asked before the message predict the outcome (R², 0 to 0.9)",
        description="From a pilot or an earlier study; leave empty if unknown (counted as 0).",
        places=2,
        validators=[Optional(), NumberRange(0, 0.9)],
    )
    submit = SubmitField("Calculate")


def _choices(ids: Iterable[str]) -> dict[str, str]:
    return {i: i for i in ids}


def _item_choices(spec: Study, ids: Iterable[str]) -> dict[str, str]:
    """Item or scale ids with the question's wording, so campaigners tick what they read."""
    out = {}
    for ident in ids:
        try:
            text = spec.text(spec.item(ident).text, spec.default_language)
        except LookupError:
            text = "the average of " + ", ".join(spec.scale(ident).items)
        out[ident] = f"{ident}: {text[:90]}{'…' if len(text) > 90 else ''}"
    return out


def plan_form(spec: Study) -> tuple[type[FlaskForm], Places]:
    """The analysis plan in plain words: outcomes, covariates, moderators, false-alarm risk,
    allowance for several frames, exclusions and the target sample."""
    post = [i.id for i in spec.items_for("post") if i.type != "text"] + [s.id for s in spec.scales]
    pre = [i.id for i in spec.items_for("pre") if i.type != "text"] + [s.id for s in spec.scales]
    plan = spec.analysis
    fields: dict[str, Field] = {
        "primary": MultiCheckboxField(
            "Main outcomes: what the frames should change (primary)",
            choices=_item_choices(spec, post),
            default=plan.primary,
        ),
        "secondary": MultiCheckboxField(
            "Other outcomes to look at (secondary, exploratory)",
            choices=_item_choices(spec, post),
            default=plan.secondary,
        ),
        "covariates": MultiCheckboxField(
            "Answers given before the message that make the estimate more precise (covariates)",
            choices=_item_choices(spec, pre),
            default=plan.covariates,
        ),
        "moderators": MultiCheckboxField(
            "Groups to compare: does a frame work differently for them? (moderators)",
            choices=_item_choices(spec, pre),
            default=plan.moderators,
        ),
        "alpha": FiniteDecimalField(
            "Risk of a false alarm (significance level, alpha)",
            description="0.05 means a frame that does nothing is declared to work 5 times in 100.",
            # Shown as the study gives it: rounding to 3 places turned 0.0125 into 0.013.
            places=None,
            default=plan.alpha,
            validators=[InputRequired()],
        ),
        "correction": SelectField(
            "Allowance for testing several frames",
            choices=CORRECTION_CHOICES,
            default=plan.correction,
        ),
        "exclude": MultiCheckboxField(
            "Leave out of the analysis participants who",
            choices={
                "attention_failed": "failed an attention check",
                "speeder": "answered too fast to have read (speeders)",
                "honeypot": "filled the hidden field only robots see (honeypot)",
            },
            default=list(plan.exclude),
        ),
        "target_n": IntegerField(
            "Target sample: completed participants",
            description="The study closes when this many have finished (pilot runs not counted).",
            default=spec.target_n,
            validators=[Optional(), NumberRange(1, 10_000_000)],
        ),
        "save": SubmitField("Save analysis plan"),
    }
    places = {
        f"analysis.{name}": name
        for name in (
            "primary",
            "secondary",
            "covariates",
            "moderators",
            "alpha",
            "correction",
            "exclude",
        )
    }
    places["target_n"] = "target_n"
    return derived_form(FlaskForm, fields, "PlanForm"), places


class TargetForm(FlaskForm):
    """ "Use this number" on the power page: the target sample."""

    target_n = IntegerField(
        "Target sample", widget=HiddenInput(), validators=[InputRequired(), NumberRange(1)]
    )
    use = SubmitField("Use this number as the target sample")
