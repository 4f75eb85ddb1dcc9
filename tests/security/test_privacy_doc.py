"""docs/privacy.md, statement by statement: each checkable statement and the tests that prove it.

`STATEMENTS` maps the text of a statement, as the page says it, to the tests that check
it. The tests below keep the page and the tests from drifting apart:

- every statement is still on the page (reword one and this fails until the table
  follows);
- every test named, here or on the page ("Test: `test_...`"), exists;
- every paragraph and list item of the page (in the sections this table covers)
  holds at least one statement of the table, or is listed in `NOT_CHECKABLE` as
  advice or context that states nothing framelab does;
- the page says what a database dump, a log file, an export and a known panel id
  each reveal.

A section another issue adds (the participant code's format and the arithmetic of
guessing one, issue 17) maps its own statements: add them to `STATEMENTS` and its
heading to `COVERED_SECTIONS`.
"""

from __future__ import annotations

import ast
import functools
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "privacy.md"

ATTACKS = "tests/security/test_privacy_attacks.py"
EXPORTS_LOGS = "tests/security/test_privacy_exports_logs.py"
CLAIMS = "tests/security/test_privacy_claims.py"
PRIVACY = "tests/security/test_privacy.py"
RATES = "tests/security/test_rate_limits.py"
NAT = "tests/security/test_carrier_nat_netns.py"
HEADERS = "tests/security/test_headers.py"
SECRET = "tests/security/test_secret_key.py"
SERVE = "tests/cli/test_serve_refusal.py"
LIBRARY = "tests/services/test_library_cards.py"
LIBRARY_DEMO = "tests/services/test_library_demo_card.py"
PAGES = "tests/web/test_participant_pages.py"
REHEARSAL = "tests/web/test_rehearsal.py"
INFRA = "tests/web/test_web_infrastructure.py"
DRAFTS = "tests/web/test_page_drafts.py"
WAVES = "tests/waves/test_wave_pages.py"

STATEMENTS: dict[str, tuple[str, ...]] = {
    # What framelab stores
    "Answers**, one row per question, linked to a random participant code. The code is not "
    "derived from anything about the person.": (
        "tests/web/test_participant_codes.py::test_a_new_code_is_twenty_crockford_symbols_without_i_l_o_u",
        "tests/services/test_export.py::test_long_export_has_one_row_per_stored_answer",
    ),
    "the page they are on, and when each page was shown and submitted": (
        f"{CLAIMS}::test_a_dump_holds_each_pages_exact_times",
    ),
    "framelab keeps `HMAC-SHA256(key, sha256(salt:id))` of their id (and of the panel's study "
    "and session ids), never the id": (
        f"{PRIVACY}::test_panel_id_is_stored_only_as_a_keyed_hash_salted_per_study",
        f"{ATTACKS}::test_a_database_dump_confirms_no_panel_id_without_the_key_file",
    ),
    "The pseudonym only tells a returning id apart from a new one: it never resumes anyone": (
        f"{ATTACKS}::test_a_panel_id_neither_resumes_nor_withdraws_anyone",
    ),
    "**The channel** they came through (`?src=sms`, `?src=twitter`): a campaign label, not a "
    "phone number.": (
        "tests/services/test_export.py::test_tidy_export_values_flags_scales_and_withdrawn_counts",
    ),
    "A channel link's **opened** count is a bare number incremented when the link is opened": (
        "tests/services/test_reach.py::test_opening_a_channel_link_counts_it_and_consent_sets_its_source",
    ),
    "contact ids (whatever the campaign's tool uses, even phone numbers) are kept as "
    "`HMAC-SHA256(key, sha256(salt:id))` under the same key as panel ids, never the id": (
        "tests/web/test_reach_privacy.py::test_no_contact_id_is_in_the_database_the_logs_or_the_exports",
        "tests/studio/test_reach_pages.py::test_no_contact_id_reaches_the_database_or_the_logs",
    ),
    "**Quality flags**: failed attention check, answered too fast, filled the hidden bot field.": (
        f"{PAGES}::test_honeypot_and_failed_attention_check_are_flagged_not_rejected",
        f"{PAGES}::test_fast_completion_is_flagged_as_speeder_and_a_slow_one_is_not",
    ),
    "framelab keeps the answers on it that were valid, so that a reload or a return with the "
    "participant code shows them again": (
        f"{DRAFTS}::test_a_failed_post_then_a_reload_shows_the_valid_answers_only",
        f"{DRAFTS}::test_the_code_resumes_the_draft_on_another_phone_days_later",
        f"{DRAFTS}::test_the_page_sent_as_it_is_left_keeps_its_valid_answers",
    ),
    "it is deleted when the page is sent complete, when the participant withdraws and when "
    "the study is erased, and no export reads it": (
        f"{DRAFTS}::test_submitting_stores_the_whole_page_and_deletes_its_draft",
        f"{DRAFTS}::test_withdrawing_erases_the_draft",
        f"{DRAFTS}::test_erasing_the_study_erases_drafts",
        f"{DRAFTS}::test_drafts_are_never_exported",
    ),
    "A study with follow-up waves gives each participant who completes it a personal "
    "follow-up link (160 random bits)": (
        f"{WAVES}::test_the_debrief_gives_a_personal_link_and_the_date_the_wave_opens",
    ),
    "The link opens the wave's questions and never withdraws anyone; a panel id never opens it.": (
        f"{WAVES}::test_before_inside_and_after_the_window",
        f"{WAVES}::test_the_follow_up_link_never_withdraws_and_the_code_erases_the_waves",
        f"{WAVES}::test_a_panel_id_never_opens_the_follow_up",
    ),
    "Wave answers are linked to wave 1 by the participant's row only, and withdrawal and "
    "erasure delete them with the link.": (
        f"{WAVES}::test_the_follow_up_link_never_withdraws_and_the_code_erases_the_waves",
        f"{WAVES}::test_erasing_the_study_erases_the_waves_and_logs_never_show_a_link",
    ),
    "A panel-id list uploaded to find who is due is matched by keyed hash and not stored.": (
        "tests/waves/test_wave_due.py::test_due_lists_once_the_window_opens",
    ),
    "A page's draft (above) is shown on that page to whoever opens it with the participant's "
    "cookie or code.": (
        f"{DRAFTS}::test_a_failed_post_then_a_reload_shows_the_valid_answers_only",
        f"{DRAFTS}::test_the_code_resumes_the_draft_on_another_phone_days_later",
    ),
    '"Leave this page" sends no draft, so what was chosen on the page just before is not kept.': (
        "tests/browser/test_page_draft_browser.py::test_leave_this_page_keeps_no_draft",
    ),
    "Free text in a draft is encrypted like text answers when `FRAMELAB_TEXT_KEY` is set.": (
        f"{DRAFTS}::test_text_in_a_draft_is_encrypted_at_rest_with_the_text_key",
    ),
    # Simulated participants
    "The simulator sends a rehearsal token in the `X-Framelab-Rehearsal` header: an "
    "HMAC-SHA256 of the study's slug and an expiry time (24 hours)": (
        f"{REHEARSAL}::test_rehearsal_tokens_are_bound_to_key_study_and_time",
        f"{REHEARSAL}::test_simulate_against_a_server_signs_with_the_servers_key",
    ),
    "a request with any other token (wrong key, another study, expired, altered) is refused "
    "with HTTP 403 and enrols nobody": (
        f"{REHEARSAL}::test_a_participant_cannot_mark_themselves_as_rehearsal",
    ),
    "Query parameters and form fields named `rehearsal` are ignored.": (
        f"{REHEARSAL}::test_a_participant_cannot_mark_themselves_as_rehearsal",
    ),
    "count towards no target or dashboard figure, and appear only in a rehearsal export or "
    "report": (
        f"{REHEARSAL}::test_bots_do_not_reach_the_target_nor_appear_on_the_dashboard",
        f"{REHEARSAL}::test_exports_hold_real_rows_only_and_a_rehearsal_export_marks_every_bot",
        f"{REHEARSAL}::test_real_report_refuses_and_the_rehearsal_report_is_stamped",
        f"{REHEARSAL}::test_a_simulation_changes_nothing_in_the_real_participants_data",
    ),
    # What a database dump reveals
    "holds the participant-level data: answers, arms, strata, flags, the exact time each page "
    "was shown and submitted, and the participant codes": (
        f"{CLAIMS}::test_a_dump_holds_each_pages_exact_times",
        f"{ATTACKS}::test_withdrawal_leaves_no_panel_hash_no_stratum_and_no_exact_time",
    ),
    "Without the key file, somebody who knows a person's Prolific id cannot test it against "
    "the dump": (f"{ATTACKS}::test_a_database_dump_confirms_no_panel_id_without_the_key_file",),
    "Someone who withdrew has no pseudonym left at all": (
        f"{ATTACKS}::test_withdrawal_leaves_no_panel_hash_no_stratum_and_no_exact_time",
    ),
    "**After a withdrawal** the dump ties no stratum and no time finer than the day to the "
    "person": (
        f"{ATTACKS}::test_after_withdrawal_a_dump_of_every_table_gives_no_stratum_and_no_exact_time",
    ),
    "The assignment log names no participant and holds no time (since migration s010), and no "
    "participant row points into it, so no join gives their stratum back.": (
        f"{ATTACKS}::test_after_withdrawal_a_dump_of_every_table_gives_no_stratum_and_no_exact_time",
        "tests/db/test_migration_s010.py::test_s010_keeps_every_slot_without_participant_or_time_and_participants_still_finish",
    ),
    "participant rows are numbered in order of arrival and the log keeps each stratum's "
    "sequence, while the rows of those who stayed keep their exact times, so a withdrawn "
    "person's arrival can be placed between their neighbours'": (
        f"{ATTACKS}::test_after_withdrawal_a_dump_of_every_table_gives_no_stratum_and_no_exact_time",
    ),
    "each stratum's assignments, less the strata of the participants who stayed, are the "
    "strata of all who withdrew, together. When only one person withdrew from a study, that "
    "is their stratum, of a row that names nobody.": (
        f"{ATTACKS}::test_after_withdrawal_a_dump_of_every_table_gives_no_stratum_and_no_exact_time",
    ),
    "is made on first use (32 random bytes, mode 0600)": (
        f"{CLAIMS}::test_the_pseudonym_key_file_is_made_on_first_use_with_32_random_bytes_mode_0600",
        f"{ATTACKS}::test_a_database_dump_confirms_no_panel_id_without_the_key_file",
        f"{ATTACKS}::test_rotating_the_pseudonym_key_keeps_returning_ids_recognised",
    ),
    "a key file that does not belong to the database (lost, restored from the wrong backup) "
    'is refused: panel links answer "This study is not open" (HTTP 503) and the log says '
    "why": (
        f"{ATTACKS}::test_the_app_refuses_panel_links_with_a_key_file_that_is_not_the_databases",
        f"{CLAIMS}::test_a_key_file_that_is_not_the_databases_is_logged_with_the_reason",
    ),
    "the upgrade replaced each by `HMAC(key, old hash)` under the same key file": (
        "tests/db/test_migration_s008.py::test_s008_keys_old_panel_hashes_and_their_ids_are_still_recognised",
    ),
    "replaces every stored pseudonym `p` by `HMAC(new key, p)` and the check value likewise, "
    "in one transaction, and appends the new key to the file": (
        f"{ATTACKS}::test_rotating_the_pseudonym_key_keeps_returning_ids_recognised",
    ),
    "a crash loses nothing: run the command again and it finishes or restarts the rotation": (
        f"{ATTACKS}::test_rotating_the_pseudonym_key_keeps_returning_ids_recognised",
    ),
    # What a known panel id reveals
    "Whether the id took part changes neither the status, the redirect, the page (apart from "
    "its CSRF token and the cookie's value) nor the number of database statements run": (
        f"{ATTACKS}::test_a_known_panel_id_tells_nothing_on_an_open_study",
        f"{ATTACKS}::test_a_known_panel_id_tells_nothing_on_a_closed_study",
    ),
    "A panel id never resumes a participant and never withdraws one": (
        f"{ATTACKS}::test_a_panel_id_neither_resumes_nor_withdraws_anyone",
    ),
    "flagged as a **duplicate** (`participant.duplicate`), without a pseudonym of its own, "
    "never linked to the earlier record": (
        f"{ATTACKS}::test_a_repeat_panel_id_is_a_duplicate_outside_the_block_sequence_and_the_log_replays",
    ),
    "A duplicate counts towards no target, no dashboard figure but its own count, and no "
    "export or report.": (
        f"{ATTACKS}::test_duplicates_never_reach_the_target",
        f"{ATTACKS}::test_a_repeat_panel_id_is_a_duplicate_outside_the_block_sequence_and_the_log_replays",
    ),
    "A panel link enrols on the consent, not when it is opened, so a link preview in a chat "
    "app enrols nobody.": (
        f"{CLAIMS}::test_opening_a_panel_link_enrols_nobody_so_a_link_preview_spends_nothing",
    ),
    "a panel participant who switches browser mid-study starts again (and is flagged as a "
    "duplicate)": (f"{ATTACKS}::test_a_panel_id_neither_resumes_nor_withdraws_anyone",),
    # What a shared phone reveals
    "After the consent every page is at `/p`, whichever study it is": (
        f"{ATTACKS}::test_a_shared_phone_keeps_neither_the_study_nor_the_code_in_its_history",
    ),
    "a cookie (`p`: the code, HttpOnly, SameSite=Lax, only sent to `/p`, gone when the "
    "browser closes)": (
        f"{ATTACKS}::test_a_shared_phone_keeps_neither_the_study_nor_the_code_in_its_history",
        f"{CLAIMS}::test_the_participant_cookie_lasts_until_the_browser_closes",
    ),
    "**A neutral title** if the study file asks for one, in the browser tab, the history and "
    "the page header": (
        f"{ATTACKS}::test_a_neutral_page_title_keeps_the_campaigns_name_off_the_phone",
    ),
    'The last page, the "no, thank you" page and the page after a withdrawal send '
    '`Clear-Site-Data: "cookies", "storage"` and drop the cookie': (
        f"{ATTACKS}::test_a_shared_phone_keeps_neither_the_study_nor_the_code_in_its_history",
        f"{ATTACKS}::test_withdrawal_leaves_no_panel_hash_no_stratum_and_no_exact_time",
    ),
    "Pages are never cached (`Cache-Control: no-store`).": (
        f"{HEADERS}::test_every_participant_page_and_error_page_sends_the_security_headers",
    ),
    '**"Leave this page"** at the top of every participant page (error pages included)': (
        f"{ATTACKS}::test_every_participant_page_has_a_quick_exit_that_replaces_the_history_entry",
    ),
    'anyone who opens `/p` on the phone afterwards sees only the "continue with your code" form': (
        f"{ATTACKS}::test_a_shared_phone_keeps_neither_the_study_nor_the_code_in_its_history",
    ),
    # What framelab does not store
    "**No IP addresses and no browser user agents**, in the database or in the logs": (
        f"{PRIVACY}::test_no_address_user_agent_or_referrer_in_the_database_or_the_logs",
        f"{PAGES}::test_no_ip_address_or_user_agent_reaches_the_database",
    ),
    "The access log is off by default; if an operator turns it on (`FRAMELAB_ACCESS_LOG`), it "
    "still omits the client address, the user agent and the query string.": (
        f"{INFRA}::test_access_log_lines_are_dropped_unless_the_operator_opts_in",
        f"{INFRA}::test_opted_in_access_log_has_no_client_address_or_query_string",
        f"{INFRA}::test_gunicorn_logs_no_access_by_default_and_never_addresses_or_agents",
    ),
    "count requests under a keyed hash of the address, never the address itself, and only "
    "for the limit's window (at most an hour with the default limits)": (
        f"{RATES}::test_limiter_keys_hold_no_client_address",
        f"{CLAIMS}::test_rate_limit_counts_last_at_most_an_hour_by_default",
    ),
    "**No names, e-mail addresses or phone numbers**, unless a study asks for them in a "
    "free-text question.": (
        f"{CLAIMS}::test_participant_data_has_no_column_for_a_name_contact_address_or_device",
    ),
    "Participant pages load their stylesheet, one small script and their icon from your own "
    "server and nothing else (their Content-Security-Policy lets the browser load nothing "
    "from another host)": (f"{CLAIMS}::test_participant_pages_load_nothing_from_other_hosts",),
    # Limits that fit carrier NAT
    "New participants are limited per source address (`FRAMELAB_ENROL_RATE_LIMIT`, by default "
    "1000 a minute and 20000 an hour), counted only when a consent enrols someone": (
        f"{RATES}::test_new_participants_per_source_are_limited",
        f"{RATES}::test_panel_links_count_as_new_participants",
        f"{NAT}::test_hundreds_behind_one_address_and_many_hosts_are_enrolled_and_a_flood_is_cut",
    ),
    "opening the study link, and a participant coming back to their own page, count nothing": (
        f"{RATES}::test_a_returning_participant_is_not_counted_as_new",
        f"{CLAIMS}::test_opening_a_panel_link_enrols_nobody_so_a_link_preview_spends_nothing",
    ),
    "Bots are told apart by the hidden honeypot field, the speeder timing and duplicate panel "
    "ids, not by their address": (
        f"{PAGES}::test_honeypot_and_failed_attention_check_are_flagged_not_rejected",
        f"{PAGES}::test_fast_completion_is_flagged_as_speeder_and_a_slow_one_is_not",
        f"{ATTACKS}::test_a_repeat_panel_id_is_a_duplicate_outside_the_block_sequence_and_the_log_replays",
    ),
    "300 phones behind one address, each a browser of its own, were all enrolled, in 25 "
    "seconds; ten other hosts with five phones each were all enrolled; a machine posting "
    "consents as fast as it could (1060 in 4.5 seconds) was cut at exactly 1000 within its "
    'minute, 60 refused with "Too many requests", while a host elsewhere still enrolled.': (
        f"{NAT}::test_hundreds_behind_one_address_and_many_hosts_are_enrolled_and_a_flood_is_cut",
        f"{EXPORTS_LOGS}::test_hundreds_of_participants_behind_one_carrier_address_are_all_enrolled",
    ),
    "The trade-off: one machine may add up to 1000 participants a minute before it is refused": (
        f"{NAT}::test_hundreds_behind_one_address_and_many_hosts_are_enrolled_and_a_flood_is_cut",
    ),
    "The counts are kept in each server process's memory unless "
    "`FRAMELAB_RATELIMIT_STORAGE_URI` points all of them at one store (Redis)": (
        f"{RATES}::test_limiter_storage_comes_from_the_environment",
    ),
    # What participants can do
    "The last page shows the code and the address of the withdrawal page (`/withdraw` on your "
    "server), where entering the code is enough; nothing else (a panel id in particular) "
    "withdraws anyone.": (
        f"{PAGES}::test_withdrawal_from_the_debrief_asks_first_then_erases_answers",
        f"{PRIVACY}::test_withdrawal_later_with_the_code_erases_only_that_participants_answers",
        f"{ATTACKS}::test_a_panel_id_neither_resumes_nor_withdraws_anyone",
    ),
    "framelab erases their answers and page times and everything derived from them or from "
    "them as a person": (
        "tests/services/test_flow.py::test_withdraw_erases_what_derives_from_the_person_and_keeps_the_assignment_log_row",
        f"{ATTACKS}::test_withdrawal_leaves_no_panel_hash_no_stratum_and_no_exact_time",
        f"{ATTACKS}::test_after_withdrawal_a_dump_of_every_table_gives_no_stratum_and_no_exact_time",
    ),
    "their slot in the assignment log, which names nobody and holds no time, so the balance "
    "between arms stays honest and the randomization still replays": (
        f"{ATTACKS}::test_after_withdrawal_a_dump_of_every_table_gives_no_stratum_and_no_exact_time",
        "tests/db/test_migration_s010.py::test_s010_keeps_every_slot_without_participant_or_time_and_participants_still_finish",
    ),
    "Nothing is left to recognise their panel id by: if it comes again it is a newcomer.": (
        f"{ATTACKS}::test_withdrawal_leaves_no_panel_hash_no_stratum_and_no_exact_time",
    ),
    "**Continue later** on the same browser, or anywhere with their participant code.": (
        f"{RATES}::test_a_returning_participant_is_not_counted_as_new",
        "tests/web/test_participant_codes.py::test_resume_and_withdraw_later_accept_the_code_as_a_person_types_it",
    ),
    "**Skip questions** that are not marked required.": (
        "tests/web/test_participant_slider.py::test_an_untouched_optional_slider_is_exported_as_missing_and_a_chosen_50_as_50",
        "tests/services/test_responses.py::test_optional_text_left_empty_is_not_stored_and_text_is_kept_verbatim",
    ),
    # What the results show
    "Reports and the studio dashboard hide any subgroup smaller than the study's "
    "`quality.min_cell_size` (10 by default)": (
        "tests/analysis/test_disclosure.py::test_the_analysis_hides_the_same_cells_as_the_dashboard",
        "tests/analysis/test_disclosure.py::test_answer_distributions_show_no_count_below_the_minimum_nor_one_that_totals_give_back",
        f"{PRIVACY}::test_dashboard_shows_small_stratum_and_source_counts_as_fewer_than_the_minimum",
    ),
    "Each column of a group table counts only the first 10, 20, 30 … participants": (
        f"{EXPORTS_LOGS}::test_dashboard_small_cells_cannot_be_recovered_by_subtraction_or_successive_views",
    ),
    'A count from 1 to 9 is "hidden", and so many more (the smallest first) that at least two '
    "counts are hidden in that column and together hold at least 10 people.": (
        f"{EXPORTS_LOGS}::test_complementary_suppression_hides_a_second_cell_and_enough_of_them",
    ),
    "On the dashboard, hiding a small count is not enough, because the whole study's funnel "
    "next to it is exact": (
        f"{EXPORTS_LOGS}::test_dashboard_small_cells_cannot_be_recovered_by_subtraction_or_successive_views",
    ),
    "Until the first 10 participants of a column, its group counts are all 0": (
        f"{EXPORTS_LOGS}::test_dashboard_small_cells_cannot_be_recovered_by_subtraction_or_successive_views",
    ),
    # What an export reveals
    "one row per participant (or per answer) with their arm, stratum, source, language, every "
    "answer, free text included, and quality flags": (
        "tests/services/test_export.py::test_tidy_export_has_exactly_the_documented_columns",
        "tests/services/test_export.py::test_long_export_has_one_row_per_stored_answer",
    ),
    "are rounded down to the hour, or to the day when the study file says `privacy: "
    "{time_precision: day}`; `duration_seconds` and `message_seconds` are whole seconds": (
        f"{EXPORTS_LOGS}::test_exports_round_times_to_the_hour_and_durations_to_whole_seconds_by_default",
        f"{EXPORTS_LOGS}::test_a_study_can_round_times_to_the_day_and_the_codebook_says_so",
    ),
    "exported as its own column: `after_lock`": (
        f"{EXPORTS_LOGS}::test_exports_round_times_to_the_hour_and_durations_to_whole_seconds_by_default",
    ),
    "**Exact times only in an audit export**, which the owner asks for explicitly": (
        f"{EXPORTS_LOGS}::test_studio_audit_export_is_for_the_owner_only_confirmed_and_recorded",
        f"{EXPORTS_LOGS}::test_cli_audit_export_warns_and_is_recorded_in_the_audit_trail",
    ),
    "The `participant` column is a keyed hash of the participant's private code, different in "
    "every study.": (
        "tests/services/test_export.py::test_exports_never_carry_the_private_resume_code",
        f"{CLAIMS}::test_export_ids_are_keyed_by_the_study_so_they_differ_between_studies",
    ),
    "Someone who withdrew is not a row (DECISIONS rule 7).": (
        f"{EXPORTS_LOGS}::test_withdrawn_participants_are_counts_per_arm_never_rows",
    ),
    "**No simulated participants and no duplicates** (a panel id that had taken part before) "
    "in a real export; a rehearsal export holds the simulated ones alone.": (
        f"{REHEARSAL}::test_exports_hold_real_rows_only_and_a_rehearsal_export_marks_every_bot",
        f"{ATTACKS}::test_a_repeat_panel_id_is_a_duplicate_outside_the_block_sequence_and_the_log_replays",
    ),
    "a text cell that begins with `=`, `+`, `-`, `@`, a tab or a carriage return gets an "
    "apostrophe in front": (
        f"{EXPORTS_LOGS}::test_formula_cells_are_neutralised_in_every_csv_while_parquet_spss_stata_keep_them",
        f"{EXPORTS_LOGS}::test_numbers_are_never_neutralised_a_negative_number_stays_a_number",
    ),
    "Lines end in CRLF, so a carriage return inside an answer stays inside its quoted cell.": (
        f"{CLAIMS}::test_every_csv_line_ends_in_crlf_so_a_carriage_return_stays_in_its_cell",
        f"{EXPORTS_LOGS}::test_numbers_are_never_neutralised_a_negative_number_stays_a_number",
    ),
    "the audit trail (who did what, staff e-mail addresses included)": (
        "tests/studio/test_review_and_campaigns.py::test_downloads_are_audited_and_the_bundle_carries_the_trail",
    ),
    "`assignment_log.csv`: every assignment's stratum, position, block and arm, with no "
    "participant, no code and no time": (
        f"{EXPORTS_LOGS}::test_the_bundle_carries_the_assignment_log_without_identifiers",
    ),
    "`framelab replay-assignments STUDY` does the same on the server and prints every divergence": (
        f"{EXPORTS_LOGS}::test_replay_finds_nothing_on_a_clean_log_and_every_divergence_in_a_tampered_one",
    ),
    "the database refuses to change or delete a log row (a trigger on SQLite and PostgreSQL, "
    "migrations s009 and s010)": (
        f"{EXPORTS_LOGS}::test_the_database_refuses_to_update_the_assignment_log",
        "tests/db/test_migration_s010.py::test_s010_keeps_every_slot_without_participant_or_time_and_participants_still_finish",
    ),
    # What a log file reveals
    "every line framelab or gunicorn writes is scrubbed when it is made, whichever logger "
    "made it": (
        f"{EXPORTS_LOGS}::test_the_scrubber_covers_what_gunicorn_flask_and_the_database_write",
        f"{EXPORTS_LOGS}::test_logs_after_a_fuzz_run_and_a_crash_hold_no_address_agent_panel_id_code_or_query",
        f"{EXPORTS_LOGS}::test_gunicorn_logs_after_a_fuzz_run_and_a_crash_hold_no_address_agent_panel_id_code_or_query",
    ),
    "`framelab serve` runs gunicorn with `framelab.web.gunicorn_log.ScrubbingLogger`": (
        f"{INFRA}::test_gunicorn_logs_no_access_by_default_and_never_addresses_or_agents",
    ),
    "a client address (IPv4 or IPv6: `[address]`), e.g. in gunicorn's `Invalid request from "
    "ip=…`;": (
        f"{EXPORTS_LOGS}::test_gunicorn_logs_after_a_fuzz_run_and_a_crash_hold_no_address_agent_panel_id_code_or_query",
        f"{EXPORTS_LOGS}::test_the_scrubber_covers_what_gunicorn_flask_and_the_database_write",
    ),
    "a user agent (`[user agent]`);": (
        f"{EXPORTS_LOGS}::test_the_scrubber_covers_what_gunicorn_flask_and_the_database_write",
    ),
    "a query string (dropped: panel ids travel there) or a panel-id parameter anywhere": (
        f"{EXPORTS_LOGS}::test_the_scrubber_covers_what_gunicorn_flask_and_the_database_write",
        f"{EXPORTS_LOGS}::test_logs_after_a_fuzz_run_and_a_crash_hold_no_address_agent_panel_id_code_or_query",
    ),
    "a participant code (they work as credentials)": (
        f"{EXPORTS_LOGS}::test_the_scrubber_covers_what_gunicorn_flask_and_the_database_write",
        f"{EXPORTS_LOGS}::test_logs_after_a_fuzz_run_and_a_crash_hold_no_address_agent_panel_id_code_or_query",
    ),
    "the values a database error quotes (`[parameters: redacted]`, `Key (code)=(redacted)`).": (
        f"{EXPORTS_LOGS}::test_the_scrubber_covers_what_gunicorn_flask_and_the_database_write",
    ),
    "The opt-in access log (`FRAMELAB_ACCESS_LOG=1`) has the time, method, path without "
    "query, status, size and duration.": (
        f"{INFRA}::test_opted_in_access_log_has_no_client_address_or_query_string",
        f"{INFRA}::test_gunicorn_logs_no_access_by_default_and_never_addresses_or_agents",
    ),
    # How long data is kept, and erasing it
    "A study file may say how long its participant data is kept after the study closes": (
        f"{EXPORTS_LOGS}::test_purge_expired_erases_a_closed_study_only_once_its_retention_has_run_out",
    ),
    "`framelab purge-expired` erases every closed study whose period has run out (counted "
    "from when it closed, its last change of state) and prints what it erased; studies "
    "without a period, and studies still running, are kept.": (
        f"{EXPORTS_LOGS}::test_purge_expired_erases_a_closed_study_only_once_its_retention_has_run_out",
    ),
    "`--dry-run` lists what it would erase; `--now TIME` runs it as of another time.": (
        f"{CLAIMS}::test_purge_expired_dry_run_lists_what_it_would_erase_and_erases_nothing",
        f"{EXPORTS_LOGS}::test_purge_expired_erases_a_closed_study_only_once_its_retention_has_run_out",
    ),
    "`framelab erase-study STUDY --confirm STUDY` (the slug twice: it cannot be undone) erases "
    "the study and, when STUDY is a campaign, all its versions.": (
        f"{EXPORTS_LOGS}::test_erase_study_needs_the_slug_and_leaves_only_a_tombstone",
        f"{EXPORTS_LOGS}::test_erasing_a_campaign_erases_every_version_and_a_version_only_itself",
    ),
    "every participant row: codes, panel pseudonyms, flags, timestamps, arm, stratum, source, "
    "language;": (f"{EXPORTS_LOGS}::test_erase_study_needs_the_slug_and_leaves_only_a_tombstone",),
    "the assignment log (the database lets only an erasure delete it), the stratum counters, "
    "duplicates' assignments": (
        f"{EXPORTS_LOGS}::test_erase_study_needs_the_slug_and_leaves_only_a_tombstone",
        f"{EXPORTS_LOGS}::test_the_database_refuses_to_update_the_assignment_log",
        "tests/db/test_migration_s009.py::test_s009_protects_the_log_of_an_upgraded_database_and_participants_still_finish",
    ),
    "deleted only if it is still there unchanged (a changed file is reported and kept)": (
        f"{EXPORTS_LOGS}::test_erase_study_needs_the_slug_and_leaves_only_a_tombstone",
        f"{CLAIMS}::test_a_changed_export_file_is_reported_and_kept_and_an_unchanged_one_deleted",
    ),
    "What remains is a tombstone": (
        f"{EXPORTS_LOGS}::test_erase_study_needs_the_slug_and_leaves_only_a_tombstone",
    ),
    "The command also lists every download made from the studio (who, when, which file)": (
        f"{CLAIMS}::test_erase_study_lists_the_downloads_made_from_the_studio",
    ),
    # What a results card reveals
    "A results card (the frame library, `docs/library.md`) holds aggregates only": (
        f"{LIBRARY_DEMO}::test_the_demo_card_holds_aggregates_only_field_by_field",
    ),
    "a subgroup goes in with every level of its moderator or none": (
        f"{LIBRARY}::test_subgroup_rows_go_in_with_every_level_or_not_at_all",
    ),
    "refuses one that carries anything beyond the schema's aggregates, or rows under the "
    "cell size": (f"{LIBRARY}::test_a_card_that_smuggles_more_than_aggregates_is_refused",),
    "Cards are signed with the instance's own Ed25519 key": (
        f"{LIBRARY}::test_the_signing_key_file_is_private_and_stable",
        f"{LIBRARY}::test_a_tampered_card_is_refused_with_a_clear_message",
    ),
    # What you must do as the operator
    "In production, session cookies are always marked `Secure`": (
        f"{HEADERS}::test_production_config_always_marks_cookies_secure",
    ),
    "`framelab serve` refuses to serve plain HTTP on any other address unless "
    "`FRAMELAB_PROXY_FIX` says a proxy is in front": (
        f"{SERVE}::test_other_hosts_are_refused_without_a_proxy",
        f"{SERVE}::test_loopback_hosts_are_served",
        f"{SERVE}::test_the_command_stops_with_the_message_before_serving",
    ),
    "Behind a proxy, set `FRAMELAB_PROXY_FIX=1` (the number of proxies) so framelab sees "
    "that the request was HTTPS": (
        f"{HEADERS}::test_https_behind_a_trusted_proxy_makes_the_cookie_secure",
        f"{HEADERS}::test_session_cookie_is_httponly_samesite_and_secure_only_over_https",
    ),
    "`framelab secret-key` prints one). framelab refuses to start in production with a "
    "missing, short or well-known key. Left unset, framelab makes one and keeps it in the "
    "instance folder.": (
        f"{SECRET}::test_production_start_refuses_a_weak_secret_key_with_a_clear_message",
        f"{SECRET}::test_production_start_accepts_a_strong_key_and_the_generated_one",
        f"{SECRET}::test_cli_prints_keys_that_the_checks_accept",
    ),
    "set `FRAMELAB_TEXT_KEY` (`framelab text-key` prints a new key": (
        f"{PRIVACY}::test_free_text_is_encrypted_at_rest_and_readable_in_the_export",
        f"{SECRET}::test_cli_prints_keys_that_the_checks_accept",
    ),
    "write it in the study file (`privacy.retention_days`) and run `framelab purge-expired` "
    "daily": (
        f"{EXPORTS_LOGS}::test_purge_expired_erases_a_closed_study_only_once_its_retention_has_run_out",
    ),
    "Rotate it with `framelab rotate-pseudonym-key` if a copy may have leaked": (
        f"{ATTACKS}::test_rotating_the_pseudonym_key_keeps_returning_ids_recognised",
    ),
    "framelab creates the instance folder with mode 0700 and the SQLite database (and its "
    "`-wal`/`-shm` files) and the secret-key file with mode 0600": (
        f"{EXPORTS_LOGS}::test_instance_folder_database_and_secret_files_are_private_on_creation",
    ),
    # If something goes wrong
    "Because framelab holds no contact details and no IP addresses": (
        f"{CLAIMS}::test_participant_data_has_no_column_for_a_name_contact_address_or_device",
        f"{PRIVACY}::test_no_address_user_agent_or_referrer_in_the_database_or_the_logs",
    ),
}

# Paragraphs (by their opening words) that state nothing framelab does: who might want
# the data, advice and context. Anything else must hold a statement of the table.
NOT_CHECKABLE = (
    "| Who | What they would want",
    "framelab cannot stop all of these.",
    "A participant's phone may be shared, or taken from them.",
    "Your reverse proxy writes its own logs",
    "**Retention.** A study file may say",
    "4. **Choose where the server lives.**",
    "5. **Backups** are copies of the data",
    "7. **Downloads are the weakest point.**",
    "8. **Limit accounts.**",
)

COVERED_SECTIONS = (
    "What a results card reveals",
    "Who might want the data",
    "What framelab stores",
    "Simulated participants never mix with real ones",
    "What a database dump reveals",
    "What a known panel id reveals",
    "What a shared phone reveals",
    "What framelab does not store",
    "Limits that fit carrier NAT",
    "What participants can do",
    "What the results show",
    "What an export reveals",
    "What a log file reveals",
    "How long data is kept, and erasing it",
    "What you must do as the operator",
    "If something goes wrong",
)
REQUIRED_SECTIONS = (
    "What a database dump reveals",
    "What a log file reveals",
    "What an export reveals",
    "What a known panel id reveals",
)


def _flat(text: str) -> str:
    return " ".join(text.split())


@functools.cache
def _doc() -> str:
    return DOC.read_text(encoding="utf-8")


@functools.cache
def _sections() -> dict[str, str]:
    parts = re.split(r"^## ", _doc(), flags=re.MULTILINE)[1:]
    return {part.partition("\n")[0].strip(): part.partition("\n")[2] for part in parts}


def _blocks(body: str) -> list[str]:
    """Paragraphs and list items of a section, flattened (code blocks left out)."""
    body = re.sub(r"```.*?```", "", body, flags=re.DOTALL)
    blocks = []
    for paragraph in re.split(r"\n\s*\n", body):
        for item in re.split(r"\n(?=- |\d+\. )", paragraph.strip()):
            if item.strip():
                blocks.append(_flat(item))
    return blocks


@functools.cache
def _test_functions(path: str) -> frozenset[str]:
    tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
    return frozenset(
        node.name
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.name.startswith("test_")
    )


@functools.cache
def _all_test_functions() -> frozenset[str]:
    names: set[str] = set()
    for path in (ROOT / "tests").rglob("test_*.py"):
        names |= _test_functions(str(path.relative_to(ROOT)))
    return frozenset(names)


@pytest.mark.parametrize("statement", list(STATEMENTS), ids=lambda s: s[:60])
def test_each_statement_is_still_on_the_page(statement):
    assert _flat(statement) in _flat(_doc()), f"docs/privacy.md no longer says: {statement!r}"


@pytest.mark.parametrize("statement", list(STATEMENTS), ids=lambda s: s[:60])
def test_each_statement_is_proved_by_tests_that_exist(statement):
    proofs = STATEMENTS[statement]
    assert proofs, statement
    for proof in proofs:
        path, _, name = proof.partition("::")
        assert (ROOT / path).is_file(), proof
        assert name in _test_functions(path), f"{proof}: no such test (statement {statement!r})"


def test_every_test_the_page_names_exists():
    named = set(re.findall(r"`(test_[a-z0-9_]+)`", _doc()))
    assert named, "the page names no test"
    assert sorted(named - _all_test_functions()) == []


def test_every_test_the_covered_sections_name_is_in_the_table():
    # The table is the complete list: a test the page cites proves one of its statements.
    named = {
        name
        for title in COVERED_SECTIONS
        for name in re.findall(r"`(test_[a-z0-9_]+)`", _sections().get(title, ""))
    }
    mapped = {proof.partition("::")[2] for proofs in STATEMENTS.values() for proof in proofs}
    assert sorted(named - mapped) == []


def test_the_page_says_what_a_dump_a_log_an_export_and_a_known_panel_id_reveal():
    assert set(REQUIRED_SECTIONS) <= set(_sections())
    for title in REQUIRED_SECTIONS:
        assert any(_flat(s) in _flat(_sections()[title]) for s in STATEMENTS), title


@pytest.mark.parametrize("title", COVERED_SECTIONS)
def test_every_paragraph_states_something_tested_or_is_advice(title):
    assert title in _sections(), f"docs/privacy.md has no section {title!r}"
    statements = [_flat(s) for s in STATEMENTS]
    untested = [
        block[:120]
        for block in _blocks(_sections()[title])
        if not block.startswith("Test:")
        and not block.startswith(NOT_CHECKABLE)
        and not any(s in block for s in statements)
    ]
    assert untested == [], f"{title}: paragraphs with no statement in STATEMENTS"
