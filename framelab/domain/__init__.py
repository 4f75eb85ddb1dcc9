"""Pure domain code (standard library, pydantic, PyYAML): no Flask, no SQLAlchemy.

The study model (study, study_sections, study_fields, with the rules across sections in
checks and design_checks), items and their answers, the participant step machine
(steps), randomization (assignment), names a campaigner reads, the value taxonomy, and
the studio's builder as pure edits of a study (builder/). docs/code-map.md lists every
module; tests/domain/test_boundaries.py keeps the package free of upward imports and of
import circles.
"""
