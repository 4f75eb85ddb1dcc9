"""The campaigner summary: each rule checked on a hand-made results object."""

from __future__ import annotations

from analysis.report import campaigner_summary
from tests.report.handmade import handmade_results


def _effects(results, **changes_by_arm):
    for effect in results["effects"]:
        change = changes_by_arm.get(effect["arm"])
        if change and effect["outcome"] == "post_support":
            effect.update(change)
    return results


def test_headline_names_best_significant_frame_with_estimate_interval_and_family_size():
    summary = campaigner_summary(handmade_results())
    assert summary.headline == [
        "The fairness frame raised support for the ban by 0.42 points on the 7-point scale "
        "(95% CI 0.18 to 0.66). This is unlikely to be chance, even after accounting for "
        "testing 3 frames (p = 0.002)."
    ]


def test_largest_significant_positive_effect_wins_and_the_other_is_also_reported():
    results = _effects(
        handmade_results(),
        care={"estimate": 0.61, "conf_low": 0.3, "conf_high": 0.92, "p_adjusted": 0.001},
    )
    summary = campaigner_summary(results)
    assert summary.headline[0].startswith("The care frame raised support for the ban by 0.61")
    assert any(
        s.startswith("The fairness frame raised support for the ban by 0.42")
        and s.endswith("This too is unlikely to be chance.")
        for s in summary.findings
    )


def test_backlash_of_a_frame_overall_is_called_out_with_its_interval():
    text = "\n".join(campaigner_summary(handmade_results()).backlash)
    assert (
        "The loyalty frame lowered support for the ban by 0.35 points on the 7-point scale (95% CI −0.61 to −0.09)"
        in text
    )
    assert "the opposite of the change the campaign wants" in text
    assert "Do not use this frame as it is." in text


def test_subgroup_backlash_names_the_moderator_level_and_frame():
    text = "\n".join(campaigner_summary(handmade_results()).backlash)
    assert (
        "among participants in the subgroup “left” (ideology group), the loyalty frame lowered support for the ban by 0.90"
        in text
    )


def test_suppressed_subgroup_cell_is_never_used_in_a_claim():
    results = handmade_results()
    results["subgroups"][1].update(
        {"estimate": -2.0, "p_value": 0.0001, "conf_low": -3, "conf_high": -1}
    )
    text = campaigner_summary(results).text()
    assert "= right" not in text


def test_null_result_states_equivalence_bound_only_when_the_tost_supports_it():
    supported = campaigner_summary(handmade_results()).text()
    assert (
        "no effect larger than 0.15 points on the 7-point scale either way (p = 0.030)" in supported
    )
    results = handmade_results()
    results["equivalence"][0].update({"equivalent": False, "p_value": 0.4})
    unsupported = campaigner_summary(results).text()
    assert "no effect larger than" not in unsupported
    assert (
        "The care frame made no measurable difference to support for the ban: its estimate, 0.12 points"
        in unsupported
    )
    assert "could be chance" in unsupported


def test_binary_outcome_is_reported_in_percentage_points():
    text = campaigner_summary(handmade_results()).text()
    assert (
        "raised sign-ups for SMS updates by 8.1 percentage points (95% CI 2.2 to 14.0; p = 0.021; exploratory)"
        in text
    )


def test_missing_estimate_is_explained_with_the_warning_message():
    text = campaigner_summary(handmade_results()).text()
    assert (
        "The loyalty frame: no estimate for sign-ups for SMS updates (every participant in a group gave the same answer)."
        in text
    )


def test_no_winner_headline_when_no_frame_raised_the_primary_outcome():
    results = _effects(handmade_results(), fairness={"p_adjusted": 0.2, "p_value": 0.1})
    summary = campaigner_summary(results)
    assert summary.headline == [
        "No frame measurably raised support for the ban compared with the control message."
    ]


def test_without_a_correction_the_summary_does_not_claim_to_account_for_several_frames():
    results = handmade_results()
    results["meta"]["plan"]["correction"] = "none"
    text = campaigner_summary(results).text()
    assert "even after accounting" not in text
    assert "This is unlikely to be chance (p = 0.002)." in text


def test_caveats_report_attrition_imbalance_and_sample_ratio_from_the_results():
    results = handmade_results(
        attrition=[
            {"arm": "control", "assigned": 100, "completed": 95, "rate": 0.05},
            {"arm": "loyalty", "assigned": 100, "completed": 69, "rate": 0.31},
        ],
        attrition_test=[{"test": "chi_square", "statistic": 12.0, "df": 3, "p_value": 0.007}],
        balance_joint=[{"arm": "care", "statistic": 9.1, "df": 1, "p_value": 0.003}],
        sample_ratio=[{"statistic": 11.0, "df": 3, "p_value": 0.012}],
        descriptives=[
            {"outcome": "post_support", "arm": "control", "n": 100, "mean": 4.0},
            {"outcome": "post_support", "arm": "loyalty", "n": 69, "mean": 3.7},
        ],
    )
    caveats = campaigner_summary(results).caveats
    assert "Based on 398 participants (420 before the plan's exclusions)." in caveats
    assert any(c.startswith("The smallest group (loyalty) had 69 participants") for c in caveats)
    assert "High drop-out: 31% of participants assigned to loyalty did not finish." in caveats
    assert any("Drop-out differed between frames (p = 0.007)" in c for c in caveats)
    assert any("balance check p = 0.003; care" in c for c in caveats)
    assert any("planned split more than chance allows (p = 0.012)" in c for c in caveats)


def test_low_attrition_and_passed_checks_add_no_caveat():
    results = handmade_results(
        attrition=[{"arm": "control", "rate": 0.04}],
        attrition_test=[{"p_value": 0.6}],
        balance_joint=[{"arm": "care", "p_value": 0.5}],
        sample_ratio=[{"p_value": 0.9}],
    )
    caveats = campaigner_summary(results).caveats
    assert caveats == ["Based on 398 participants (420 before the plan's exclusions)."]


def test_primary_outcome_without_any_estimate_gives_the_reason_instead_of_failing():
    results = handmade_results()
    results["effects"] = [e for e in results["effects"] if e["outcome"] != "post_support"]
    results["warnings"].append(
        {
            "code": "no_variance",
            "message": "every participant has the value 7 on 'post_support'",
            "outcome": "post_support",
            "arm": None,
        }
    )
    summary = campaigner_summary(results)
    assert summary.headline == [
        "No effect on support for the ban could be estimated: every participant gave the same answer."
    ]


def test_interaction_test_below_alpha_says_the_frame_works_differently_and_lists_subgroup_gains():
    results = handmade_results(
        heterogeneity_joint=[
            {
                "outcome": "post_support",
                "moderator": "pre_ideology_group",
                "statistic": 9.0,
                "df": 2,
                "p_value": 0.011,
            }
        ]
    )
    results["subgroups"].append(
        {"outcome": "post_support", "arm": "fairness", "moderator": "pre_ideology_group", "level": "right",
         "estimate": 0.95, "p_value": 0.002, "conf_low": 0.4, "conf_high": 1.5, "suppressed": False}
    )  # fmt: skip
    subgroups = campaigner_summary(results).subgroups
    assert subgroups[0] == (
        "The effect of the frames on support for the ban differs with ideology group "
        "(p = 0.011 for the difference; exploratory)."
    )
    assert (
        "Among participants in the subgroup “right” (ideology group), the fairness frame raised support for the ban "
        "by 0.95 points on the 7-point scale (95% CI 0.40 to 1.50; p = 0.002). This is exploratory."
    ) in subgroups


def test_subgroup_gain_of_a_frame_that_works_everywhere_is_not_repeated():
    results = handmade_results()
    results["subgroups"].append(
        {"outcome": "post_support", "arm": "fairness", "moderator": "pre_ideology_group", "level": "right",
         "estimate": 0.95, "p_value": 0.002, "conf_low": 0.4, "conf_high": 1.5, "suppressed": False}
    )  # fmt: skip
    assert campaigner_summary(results).subgroups == []


def test_pooled_value_match_below_alpha_is_reported_as_moral_reframing_evidence():
    results = handmade_results(
        value_match=[
            {"outcome": "post_support", "arm": "care", "method": "arm_interaction", "estimate": 0.3, "p_value": 0.04},
            {"outcome": "post_support", "arm": None, "method": "pooled", "estimate": 0.21,
             "conf_low": 0.08, "conf_high": 0.34, "p_value": 0.002},
        ]
    )  # fmt: skip
    subgroups = campaigner_summary(results).subgroups
    assert subgroups == [
        "Frames moved support for the ban more in the direction the campaign wants among "
        "participants who hold the frame's own value (estimate 0.21 points on the 7-point scale "
        "per point of value score (95% CI 0.08 to 0.34); exploratory)."
    ]


def test_effect_below_alpha_only_before_correction_is_flagged_as_possible_not_certain():
    results = _effects(
        handmade_results(),
        loyalty={"p_value": 0.02, "p_adjusted": 0.06},
    )
    backlash = campaigner_summary(results).backlash
    assert backlash[0] == (
        "Possible backlash: the loyalty frame lowered support for the ban by 0.35 points on the "
        "7-point scale (95% CI −0.61 to −0.09), but after accounting for testing 3 frames this "
        "could be chance (adjusted p = 0.060)."
    )


def test_subgroup_cells_are_silent_when_the_interaction_test_is_not_significant():
    results = handmade_results(
        heterogeneity_joint=[
            {"outcome": "post_support", "moderator": "pre_ideology_group", "p_value": 0.4}
        ]
    )
    text = campaigner_summary(results).text()
    assert "Backlash in a subgroup" not in text
    assert "ideology group" not in text


def test_several_backlash_levels_of_one_moderator_share_one_sentence_and_other_splits_are_named():
    results = handmade_results()
    extra = dict(
        results["subgroups"][0],
        level="centre",
        estimate=-0.5,
        p_value=0.03,
        conf_low=-0.95,
        conf_high=-0.05,
    )
    other = dict(results["subgroups"][0], moderator="pre_age_group", level="young", p_value=0.01)
    results["subgroups"] += [extra, other]
    backlash = [
        s for s in campaigner_summary(results).backlash if s.startswith("Backlash in a subgroup")
    ]
    assert backlash == [
        "Backlash in a subgroup: among participants in the subgroup “left” (ideology group), the loyalty frame "
        "lowered support for the ban by 0.90 points on the 7-point scale (95% CI −1.30 to −0.50; "
        "p < 0.001); in the subgroup “centre” (ideology group), by 0.50 points on the 7-point scale "
        "(95% CI −0.95 to −0.05; p = 0.030). Splits by age group show similar pockets (see the appendix). "
        "This is exploratory, but avoid this frame with that audience until a new study checks it."
    ]


def test_study_wide_warnings_reach_the_caveats_but_machinery_warnings_stay_in_the_appendix():
    results = handmade_results()
    results["warnings"] += [
        {"code": "blocks_ignored", "message": "block 'right' lost its control arm", "outcome": None, "arm": None},
        {"code": "unknown_plan_key", "message": "plan key 'title' is not used by analysis", "outcome": None, "arm": None},
    ]  # fmt: skip
    caveats = campaigner_summary(results).caveats
    # the campaigner is pointed to the appendix in plain words, not shown the analyst's message
    assert (
        "The analysis reported 1 problem with the data; the analyst appendix lists it under Warnings."
        in caveats
    )
    assert not any("block 'right'" in c or "plan key" in c for c in caveats)


def test_exclusions_are_called_pre_registered_only_when_the_plan_was_locked_before_the_data():
    results = handmade_results()
    results["meta"]["provenance"] = {
        "lock": {"plan_hash": "ab" * 32, "locked_at": "2026-11-01T10:00:00+00:00", "matches": True},
    }
    results["meta"]["analysed_before_lock"] = 0
    caveats = campaigner_summary(results).caveats
    assert "Based on 398 participants (420 before the pre-registered exclusions)." in caveats
    results["meta"]["analysed_before_lock"] = 3
    caveats = campaigner_summary(results).caveats
    assert "Based on 398 participants (420 before the plan's exclusions)." in caveats
