"""Participant hot path only; everything else uses the Session.

A participant page costs one or a few small statements, and on a two-core server
SQLAlchemy's Session bookkeeping around them was most of a page. So the participant
pages' statements run straight on the driver (framelab.db.direct), and this package is
the one place that does so: no other module imports framelab.db.direct (a test checks).
The rules of the Session still hold here (framelab.db.session: SQLite writers queue on
the writer lock and begin IMMEDIATE, readers never do).

- pages: consent from the study link, the current page and a page's submit, running
  the pure step machine (framelab.domain.steps)
- lookups: a browser's arrival at a study link, and whether a code is a participant's
- rows: the participant's row, their page visits and their enrolment
- assignment: the next slot of the participant's stratum, logged (race-safe)
- quotas: whether a quota cell is full, and filling it at a completion (same lock)
- answers: a page's answers as one upsert
- studies: the study a link opens, the spec of a version, closing at the target
"""
