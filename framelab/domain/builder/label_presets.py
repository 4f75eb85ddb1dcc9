"""Ready-made answer labels for likert questions, per language, with their published source.

Public API::

    PRESETS: dict[str, Preset]          # key -> preset, in the order the studio offers them
    Preset.labels_for(languages) -> dict[str, list[str]]   # StudyError for a missing language
    Preset.covers(languages) -> bool
    matching_preset(item, languages, default_language) -> str | None   # the preset an item uses
    prefilled_labels(spec, lang) -> dict[str, Preset]   # label text keys a preset filled in
    preset_labels_for(item, default_language, lang) -> list[str] | None   # for a new language
    sibling(preset_key, points) -> str | None     # same wording family with other points
    OPTION_WORD: dict[str, str]          # "Option" per language (default choice labels)

The English anchors are the published wording named in ``source``; every other
language is framelab's own translation, written to keep the same order and
symmetry, and needs review by a native speaker before a study relies on it. To add a
language, add its labels to each preset (same number of labels, lowest point first).
Point 1 is always the negative end, so a higher stored value means more agreement,
support or likelihood.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from framelab.domain.errors import StudyError
from framelab.domain.items import Item
from framelab.domain.study import Study

VAGIAS = (
    "Vagias, W. M. (2006). Likert-type scale response anchors. Clemson International "
    "Institute for Tourism & Research Development, Clemson University"
)
ANES = (
    "American National Election Studies, 2020 Time Series Study: the branched "
    "favor/oppose items ('Do you favor, oppose, or neither favor nor oppose …' followed "
    "by 'a great deal, moderately, or a little'), combined into one 7-point scale"
)
TRANSLATION_NOTE = (
    "Translations other than English are framelab's own; have a native speaker review them."
)


@dataclass(frozen=True)
class Preset:
    """One set of likert labels: its name, points, source and labels per language."""

    key: str
    name: str
    family: str
    points: int
    source: str
    labels: dict[str, tuple[str, ...]] = field(repr=False)

    def covers(self, languages: Iterable[str]) -> bool:
        return all(_base(lang) in self.labels for lang in languages)

    def labels_for(self, languages: Iterable[str], loc: str = "labels") -> dict[str, list[str]]:
        """Labels for each language (pt-BR uses pt); StudyError naming each missing one."""
        out: dict[str, list[str]] = {}
        missing: list[tuple[str, str]] = []
        for lang in languages:
            words = self.labels.get(_base(lang))
            if words is None:
                missing.append(
                    (
                        f"{loc}.{lang}",
                        f"the preset '{self.name}' has no wording in '{lang}' (it has "
                        f"{', '.join(self.labels)}); type the {self.points} labels, one per line",
                    )
                )
            else:
                out[lang] = list(words)
        if missing:
            raise StudyError(missing)
        return out


def _base(lang: str) -> str:
    return lang.split("-")[0]


def _preset(key: str, name: str, family: str, source: str, **labels: str) -> Preset:
    split = {lang: tuple(s.strip() for s in text.split("|")) for lang, text in labels.items()}
    counts = {len(v) for v in split.values()}
    assert len(counts) == 1, f"{key}: every language needs the same number of labels"
    return Preset(key, name, family, counts.pop(), source, split)


PRESETS: dict[str, Preset] = {
    p.key: p
    for p in (
        _preset(
            "agree_5",
            "Disagree – agree, 5 points",
            "agree",
            f"{VAGIAS}, 'Level of Agreement' (5 points)",
            en="Strongly disagree | Disagree | Neither agree nor disagree | Agree | Strongly agree",
            es="Muy en desacuerdo | En desacuerdo | Ni de acuerdo ni en desacuerdo | De acuerdo | Muy de acuerdo",
            fr="Pas du tout d'accord | Pas d'accord | Ni d'accord ni pas d'accord | D'accord | Tout à fait d'accord",
            ar="أعارض بشدة | أعارض | لا أوافق ولا أعارض | أوافق | أوافق بشدة",
            pt="Discordo totalmente | Discordo | Não concordo nem discordo | Concordo | Concordo totalmente",
            tr="Kesinlikle katılmıyorum | Katılmıyorum | Ne katılıyorum ne katılmıyorum | Katılıyorum | Kesinlikle katılıyorum",
        ),
        _preset(
            "agree_7",
            "Disagree – agree, 7 points",
            "agree",
            f"{VAGIAS}, 'Level of Agreement' (7 points)",
            en="Strongly disagree | Disagree | Somewhat disagree | Neither agree nor disagree | Somewhat agree | Agree | Strongly agree",
            es="Muy en desacuerdo | En desacuerdo | Algo en desacuerdo | Ni de acuerdo ni en desacuerdo | Algo de acuerdo | De acuerdo | Muy de acuerdo",
            fr="Pas du tout d'accord | Pas d'accord | Plutôt pas d'accord | Ni d'accord ni pas d'accord | Plutôt d'accord | D'accord | Tout à fait d'accord",
            ar="أعارض بشدة | أعارض | أعارض إلى حد ما | لا أوافق ولا أعارض | أوافق إلى حد ما | أوافق | أوافق بشدة",
            pt="Discordo totalmente | Discordo | Discordo em parte | Não concordo nem discordo | Concordo em parte | Concordo | Concordo totalmente",
            tr="Kesinlikle katılmıyorum | Katılmıyorum | Biraz katılmıyorum | Ne katılıyorum ne katılmıyorum | Biraz katılıyorum | Katılıyorum | Kesinlikle katılıyorum",
        ),
        _preset(
            "oppose_support_5",
            "Oppose – favour, 5 points",
            "oppose_support",
            f"{VAGIAS}, 'Level of Support/Opposition' (5 points)",
            en="Strongly oppose | Somewhat oppose | Neutral | Somewhat favor | Strongly favor",
            es="Totalmente en contra | Algo en contra | Neutral | Algo a favor | Totalmente a favor",
            fr="Tout à fait opposé | Plutôt opposé | Neutre | Plutôt favorable | Tout à fait favorable",
            ar="أعارض بشدة | أعارض إلى حد ما | محايد | أؤيد إلى حد ما | أؤيد بشدة",
            pt="Totalmente contra | Parcialmente contra | Neutro | Parcialmente a favor | Totalmente a favor",
            tr="Kesinlikle karşıyım | Biraz karşıyım | Tarafsızım | Biraz destekliyorum | Kesinlikle destekliyorum",
        ),
        _preset(
            "oppose_support_7",
            "Oppose – support, 7 points",
            "oppose_support",
            f"{VAGIAS}: the 7-point 'Level of Agreement' anchors with oppose/support in place "
            "of disagree/agree (an adaptation; the 5-point support anchors are Vagias's own)",
            en="Strongly oppose | Oppose | Somewhat oppose | Neither support nor oppose | Somewhat support | Support | Strongly support",
            es="Me opongo totalmente | Me opongo | Me opongo algo | Ni lo apoyo ni me opongo | Lo apoyo algo | Lo apoyo | Lo apoyo totalmente",
            fr="Très opposé | Opposé | Plutôt opposé | Ni favorable ni opposé | Plutôt favorable | Favorable | Très favorable",
            ar="أعارض بشدة | أعارض | أعارض إلى حد ما | لا أؤيد ولا أعارض | أؤيد إلى حد ما | أؤيد | أؤيد بشدة",
            pt="Sou totalmente contra | Sou contra | Sou um pouco contra | Nem a favor nem contra | Sou um pouco a favor | Sou a favor | Sou totalmente a favor",
            tr="Kesinlikle karşıyım | Karşıyım | Biraz karşıyım | Ne destekliyorum ne karşıyım | Biraz destekliyorum | Destekliyorum | Kesinlikle destekliyorum",
        ),
        _preset(
            "favor_oppose_anes_7",
            "Oppose – favour a great deal, 7 points (ANES)",
            "favor_oppose_anes",
            ANES,
            en="Oppose a great deal | Oppose moderately | Oppose a little | Neither favor nor oppose | Favor a little | Favor moderately | Favor a great deal",
            es="Muy en contra | Moderadamente en contra | Un poco en contra | Ni a favor ni en contra | Un poco a favor | Moderadamente a favor | Muy a favor",
            fr="Très défavorable | Modérément défavorable | Un peu défavorable | Ni favorable ni défavorable | Un peu favorable | Modérément favorable | Très favorable",
            ar="أعارض كثيرًا | أعارض بدرجة متوسطة | أعارض قليلًا | لا أؤيد ولا أعارض | أؤيد قليلًا | أؤيد بدرجة متوسطة | أؤيد كثيرًا",
            pt="Muito contra | Moderadamente contra | Um pouco contra | Nem a favor nem contra | Um pouco a favor | Moderadamente a favor | Muito a favor",
            tr="Çok karşıyım | Orta derecede karşıyım | Biraz karşıyım | Ne destekliyorum ne karşıyım | Biraz destekliyorum | Orta derecede destekliyorum | Çok destekliyorum",
        ),
        _preset(
            "likelihood_5",
            "Likelihood, 5 points",
            "likelihood",
            f"{VAGIAS}, 'Level of Probability' (5 points)",
            en="Not probable | Somewhat improbable | Neutral | Somewhat probable | Very probable",
            es="Nada probable | Algo improbable | Neutral | Algo probable | Muy probable",
            fr="Pas probable | Plutôt improbable | Neutre | Plutôt probable | Très probable",
            ar="غير محتمل | غير محتمل إلى حد ما | محايد | محتمل إلى حد ما | محتمل جدًا",
            pt="Nada provável | Pouco provável | Neutro | Algo provável | Muito provável",
            tr="Olası değil | Pek olası değil | Tarafsızım | Biraz olası | Çok olası",
        ),
        _preset(
            "importance_7",
            "Importance, 7 points",
            "importance",
            f"{VAGIAS}, 'Level of Importance' (7 points)",
            en="Not at all important | Low importance | Slightly important | Neutral | Moderately important | Very important | Extremely important",
            es="Nada importante | Poco importante | Ligeramente importante | Neutral | Moderadamente importante | Muy importante | Extremadamente importante",
            fr="Pas du tout important | Peu important | Légèrement important | Neutre | Modérément important | Très important | Extrêmement important",
            ar="غير مهم إطلاقًا | قليل الأهمية | مهم قليلًا | محايد | مهم إلى حد ما | مهم جدًا | مهم للغاية",
            pt="Nada importante | Pouco importante | Ligeiramente importante | Neutro | Moderadamente importante | Muito importante | Extremamente importante",
            tr="Hiç önemli değil | Az önemli | Biraz önemli | Tarafsızım | Orta derecede önemli | Çok önemli | Son derece önemli",
        ),
    )
}

# The word before a number in a new choice option's label ("Option 1"); a language
# not listed gets the bare number, which the campaigner then replaces.
OPTION_WORD: dict[str, str] = {
    "en": "Option",
    "es": "Opción",
    "fr": "Option",
    "ar": "خيار",
    "pt": "Opção",
    "tr": "Seçenek",
}


def option_label(lang: str, number: int) -> str:
    word = OPTION_WORD.get(_base(lang))
    return f"{word} {number}" if word else str(number)


def matching_preset(item: Item, languages: Iterable[str], default_language: str) -> str | None:
    """The key of the preset whose labels the likert item uses in every language, if any."""
    if item.type != "likert" or item.labels is None:
        return None
    langs = list(languages)
    for preset in PRESETS.values():
        if preset.points != item.points or not preset.covers(langs):
            continue
        if all(
            item.labels.get(lang, default_language) == list(preset.labels[_base(lang)])
            for lang in langs
        ):
            return preset.key
    return None


def prefilled_labels(spec: Study, lang: str) -> dict[str, Preset]:
    """Text keys of the answer labels that `lang` takes from a preset (key -> the preset):
    the likert questions whose labels are a preset's in the default language and in `lang`.
    """
    found: dict[str, Preset] = {}
    if lang == spec.default_language:
        return found
    for item in spec.items:
        key = matching_preset(item, [spec.default_language, lang], spec.default_language)
        if key is None:
            continue
        for number in range(1, PRESETS[key].points + 1):
            found[f"items.{item.id}.labels.{number}"] = PRESETS[key]
    return found


def preset_labels_for(item: Item, default_language: str, lang: str) -> list[str] | None:
    """The labels a preset has in `lang` for a likert item that uses the preset's labels in
    the default language (None: no such preset, or it has no wording in `lang`)."""
    key = matching_preset(item, [default_language], default_language)
    if key is None or not PRESETS[key].covers([lang]):
        return None
    return list(PRESETS[key].labels[_base(lang)])


def sibling(preset_key: str, points: int) -> str | None:
    """The preset of the same family with ``points`` points (agree_5 -> agree_7)."""
    family = PRESETS[preset_key].family
    return next(
        (p.key for p in PRESETS.values() if p.family == family and p.points == points), None
    )
