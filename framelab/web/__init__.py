"""The web layer: the participant pages, the studio, and what every request shares.

Views read the request, call one service and render; they hold no SQL and no study
logic (framelab.services, framelab.domain). The app itself is built by
`framelab.create_app`, which initialises the extensions of `web.extensions`.
"""
