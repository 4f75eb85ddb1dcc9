"""Use cases on the database: each takes a Session, owns its transaction, never imports Flask.

- study_versions: publish_study, get_study, open_study_for_participants, set_status (versions, locks)
- enrolment: start_participant, panel_ids, newcomer_language (repeat panel ids enrol as
  duplicates, assigned outside the block sequences)
- pseudonyms: keyed panel-id pseudonyms (HMAC under a key file), rotate
- flow: the participant services the pages call: consent_from_link, current_page,
  submit_step, set_language, withdraw (the step machine itself is domain.steps)
- participant_store: the participant hot path, the one user of db.direct (answers stored
  all-or-nothing and idempotently, race-safe logged assignment, page times)
- export / export_plan / export_codebook / export_files / codebook / export_columns: tidy and
  long tables, analysis_plan, the codebook with withdrawn counts, labelled files
"""
