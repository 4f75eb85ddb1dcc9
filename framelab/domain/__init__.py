"""Pure domain code (standard library, pydantic, PyYAML): no Flask, no SQLAlchemy.

study.py       the Study model, loading (load_study, load_study_file), content hash
items.py       items and answer validation (Item.validate_value -> ValueProblem)
localized.py   text per language
values.py      the value taxonomy (MFQ-2 foundations, Schwartz values, custom tags)
checks.py, design_checks.py   cross-field validation rules
parsing.py     YAML/JSON reading and error formatting
assignment.py  deterministic randomization (arm_for_slot, block_sequence, replay)
confounds.py   frame length and readability checks (the studio's; adds textstat, markdown-it)
"""
