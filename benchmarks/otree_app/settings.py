"""oTree project for the flow benchmark: the example study's pages as a minimal oTree app."""

from os import environ

SESSION_CONFIGS = [
    dict(name="framing", app_sequence=["framing"], num_demo_participants=1),
]
SESSION_CONFIG_DEFAULTS = dict(real_world_currency_per_point=1.00, participation_fee=0.00, doc="")
PARTICIPANT_FIELDS = []
SESSION_FIELDS = []
LANGUAGE_CODE = "en"
REAL_WORLD_CURRENCY_CODE = "USD"
USE_POINTS = True
ADMIN_USERNAME = "admin"
ADMIN_PASSWORD = environ.get("OTREE_ADMIN_PASSWORD")
DEMO_PAGE_INTRO_HTML = ""
SECRET_KEY = environ.get("FRAMELAB_SECRET_KEY", "framelab-bench-otree")
INSTALLED_APPS = ["otree"]
