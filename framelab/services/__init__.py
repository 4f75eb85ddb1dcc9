"""Use cases on the database: each takes a Session, owns its transaction, never imports Flask.

A service says what its transaction is: `with reading(session):` (on SQLite a DEFERRED
transaction that never takes the writer lock, always ended) or `with writing(session):`
(committed when the block ends, rolled back if it raises); blocks nest (framelab.db.session).

- study_versions: publish_study, get_study, list_studies, set_status, lock_hashes (versions
  and their locks; the study link opens a study with flow.link_entry)
- study_drafts: templates, create_study, lock_state, update_study (locked parts refused)
- study_lifecycle: change_status (pilot, live, pause, resume, close), lock_plan,
  raise_target, close_if_target_reached, new_version (of a campaign)
- study_targets: closing a live study at its target (shared with the participant hot path)
- study_overview: the studio overview page's figures in one call
- campaigns: a study's versions behind one set of links, which one receives newcomers
- review / audit: reviewer sign-off before launch; the audit trail (record, trail)
- accounts / signin / two_factor / invitations / passwords: studio accounts and roles,
  sign-in with back-off and reset links, TOTP, invitations to a study, the password policy
- dashboard / live / reporting / bundle: funnel and gates, interim results, report
  inputs, the reproducible bundle
- library / library_view / cards / card_keys / card_schema: the frame library's signed
  results cards and what the studio shows of them
- erasure / assignment_audit / rehearsal / study_language: erasing participant data,
  replaying the assignment log, rehearsal tokens, the language of an error page
- plan_design / study_power / power_planner: the plan keys that follow from the design;
  power for a study as written and the studio planner's figures
- enrolment: panel_ids, newcomer_language, participant_by_code: what flow.consent_from_link
  enrols with (repeat panel ids enrol as duplicates, assigned outside the block sequences)
- pseudonyms: keyed panel-id pseudonyms (HMAC under a key file), rotate
- flow: the participant services the pages call: consent_from_link, current_page,
  submit_step, set_language, withdraw (the step machine itself is domain.steps)
- participant_store: the participant hot path, the one user of db.direct (answers stored
  all-or-nothing and idempotently, race-safe logged assignment, page times)
- export / export_plan / export_codebook / export_files / codebook / export_columns: tidy and
  long tables, analysis_plan, the codebook with withdrawn counts, labelled files
"""
