# ruff: noqa: RUF012  (oTree declares pages and constants as plain class attributes)
"""The example study (examples/torture-ban.yaml) as oTree pages: consent, pre, message,
post, intent, debrief, with the same questions and answer ranges as framelab serves.

Arms are assigned in permuted blocks of 10 when the session is created (oTree's one
assignment hook); the frame texts come from the JSON file the benchmark writes from the
study (FRAMELAB_BENCH_FRAMES), so the message page carries the same text.
"""

import json
import os
import random

from otree.api import BaseConstants, BaseGroup, BasePlayer, BaseSubsession, Page, models, widgets

doc = "framelab flow benchmark"


class C(BaseConstants):
    NAME_IN_URL = "framing"
    PLAYERS_PER_GROUP = None
    NUM_ROUNDS = 1
    ARMS = ["control", "care", "fairness", "loyalty", "liberty"]


def _frames():
    path = os.environ.get("FRAMELAB_BENCH_FRAMES")
    if not path:
        return {arm: {"title": arm, "body": ""} for arm in C.ARMS}
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


FRAMES = _frames()
LIKERT5 = [1, 2, 3, 4, 5]


def likert5(label):
    return models.IntegerField(label=label, choices=LIKERT5, widget=widgets.RadioSelectHorizontal)


class Subsession(BaseSubsession):
    pass


class Group(BaseGroup):
    pass


class Player(BasePlayer):
    arm = models.StringField()
    consent = models.StringField(choices=[["yes", "Yes"], ["no", "No"]], widget=widgets.RadioSelect)
    ideology = likert5("Where would you place yourself politically?")
    age_group = models.IntegerField(
        label="Age group", choices=[1, 2, 3, 4], widget=widgets.RadioSelect
    )
    care_1 = likert5("Care 1")
    equality_1 = likert5("Equality 1")
    loyalty_1 = likert5("Loyalty 1")
    liberty_1 = likert5("Liberty 1")
    attn_instructed = likert5("Please select 'Somewhat disagree'")
    care_2 = likert5("Care 2")
    equality_2 = likert5("Equality 2")
    loyalty_2 = likert5("Loyalty 2")
    liberty_2 = likert5("Liberty 2")
    support_pre = models.IntegerField(
        label="Support", choices=[1, 2, 3, 4, 5, 6, 7], widget=widgets.RadioSelectHorizontal
    )
    support = models.IntegerField(
        label="Support", choices=[1, 2, 3, 4, 5, 6, 7], widget=widgets.RadioSelectHorizontal
    )
    manip_value = models.IntegerField(
        label="Which value?", choices=[1, 2, 3, 4, 5], widget=widgets.RadioSelect
    )
    comment = models.LongStringField(label="Comment", blank=True)
    join_sms = models.IntegerField(
        label="Join?", choices=[[1, "Yes"], [0, "No"]], widget=widgets.RadioSelect
    )
    donate = models.IntegerField(label="How likely?", min=0, max=100)


def creating_session(subsession):
    rng = random.Random(20261125)
    arms = []
    for player in subsession.get_players():
        if not arms:
            arms = [arm for arm in C.ARMS for _ in range(2)]
            rng.shuffle(arms)
        player.arm = arms.pop()


class Consent(Page):
    form_model = "player"
    form_fields = ["consent"]


class Pre(Page):
    form_model = "player"
    form_fields = [
        "ideology", "age_group", "care_1", "equality_1", "loyalty_1", "liberty_1",
        "attn_instructed", "care_2", "equality_2", "loyalty_2", "liberty_2", "support_pre",
    ]  # fmt: skip


class Message(Page):
    @staticmethod
    def vars_for_template(player):
        return {"frame": FRAMES.get(player.arm, {"title": "", "body": ""})}


class Post(Page):
    form_model = "player"
    form_fields = ["support", "manip_value", "comment"]


class Intent(Page):
    form_model = "player"
    form_fields = ["join_sms", "donate"]


class Debrief(Page):
    pass


page_sequence = [Consent, Pre, Message, Post, Intent, Debrief]
