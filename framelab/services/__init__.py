"""Use cases on the database: each takes a Session, owns its transaction, never imports Flask.

- study_versions: publish_study, get_study, open_study_for_participants, set_status (versions, locks)
- enrolment: start_participant, assign (race-safe on SQLite and PostgreSQL, logged;
  repeat panel ids are duplicates assigned outside the block sequences)
- pseudonyms: keyed panel-id pseudonyms (HMAC under a key file), rotate
- responses: record_answers (all-or-nothing, idempotent), stored_answers
- flow: consent_from_link, current_page, submit_step, withdraw, preview_page (the
  participant step machine)
- export / export_files / codebook / export_columns: tidy and long tables, analysis_plan,
  labelled files (category columns as codes, control first), the codebook
"""
