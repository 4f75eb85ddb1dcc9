"""The studio's study builder as pure functions: (spec, the campaigner's choice) -> new spec.

No Flask request, no database: the studio's views read the forms, call these, and save the
result through `framelab.services.study_drafts`. Each edit raises StudyError with study-file
locations (shown next to the fields) and keeps the data's original shapes, so an edit that
changes nothing gives the same content hash.

- editing: texts, a frame's texts, the analysis plan, the design section; `localized_data`
- build_frames: arms and frames (add, duplicate, move, remove, control, factors, weights)
- build_design: scheme, seed, blocking groups, block sizes (and their plain words)
- build_questions / build_question_edit / question_types / question_data / question_references: questions
- build_scales: averaged indexes; build_languages: languages and translations
- label_presets: the answer-label presets (agree, likely, ...) in every language
"""
