"""Language edits of a study, as whole validated specs (no requests, no database).

add_language(spec, lang) -> Study              # every text copied from the default language,
                                               # listed as untranslated until translated;
                                               # a preset's answer labels in its own wording
remove_language(spec, lang) -> Study           # that language's texts gone everywhere
save_translation(spec, lang, texts, keep) -> Study   # texts by key; `keep` = same on purpose
save_interface(spec, lang, strings, register) -> Study

A study is always complete in every language it lists (the study format requires a
text in each), so a new language starts as a copy of the default language rather than
as empty texts: the participant preview works at once, and the copies are listed under
``translation.untranslated`` so the translation view marks them and launching is refused
until each is translated or kept on purpose (framelab.domain.translation).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any

from framelab.domain.builder.label_presets import preset_labels_for
from framelab.domain.errors import StudyError
from framelab.domain.localized import LANGUAGE_PATTERN
from framelab.domain.study import Study, study_from_data
from framelab.domain.translation import CATALOG_REGISTERS, TextUnit, interface_msgids, text_units


def _node(data: Any, path: tuple[str | int, ...]) -> Any:
    for step in path:
        data = data[step]
    return data


def _set(data: Any, path: tuple[str | int, ...], value: Any) -> None:
    _node(data, path[:-1])[path[-1]] = value


def _paths(spec: Study) -> list[tuple[str | int, ...]]:
    # One path per localized value (the labels of a list share theirs).
    return list(dict.fromkeys(unit.path for unit in text_units(spec)))


def _translation(data: dict[str, Any]) -> dict[str, Any]:
    notes = data.get("translation") or {}
    notes = {
        "registers": dict(notes.get("registers") or {}),
        "interface": {k: dict(v) for k, v in (notes.get("interface") or {}).items()},
        "untranslated": {k: list(v) for k, v in (notes.get("untranslated") or {}).items()},
    }
    data["translation"] = notes
    return notes


def _tidy(data: dict[str, Any], spec_keys: Iterable[str]) -> None:
    # Drop emptied entries and keys of texts the study no longer has.
    notes = data["translation"]
    keys = set(spec_keys)
    notes["untranslated"] = {
        lang: [k for k in listed if k in keys]
        for lang, listed in notes["untranslated"].items()
        if any(k in keys for k in listed)
    }
    notes["interface"] = {lang: s for lang, s in notes["interface"].items() if s}


def add_language(spec: Study, lang: str) -> Study:
    """`spec` with `lang` added: every text copied from the default language, untranslated."""
    lang = lang.strip()
    if not LANGUAGE_PATTERN.match(lang):
        raise StudyError([("languages", f"'{lang}' is not a language code (e.g. sw, pt-BR)")])
    if lang in spec.languages:
        raise StudyError([("languages", f"'{lang}' is already a language of this study")])
    default = spec.default_language
    data = spec.model_dump(mode="json")
    for path in _paths(spec):
        value = _node(data, path)
        texts = dict(value) if isinstance(value, dict) else {default: value}
        texts[lang] = copy.deepcopy(texts[default])
        _set(data, path, texts)
    # Answer labels of a preset that has this language are the preset's own wording, not a
    # copy to translate (the translation view shows where they come from).
    from_presets: set[str] = set()
    for index, item in enumerate(spec.items):
        labels = preset_labels_for(item, default, lang) if item.labels is not None else None
        if labels is not None:
            data["items"][index]["labels"][lang] = labels
            from_presets.update(f"items.{item.id}.labels.{n}" for n in range(1, len(labels) + 1))
    data["languages"] = [*spec.languages, lang]
    notes = _translation(data)
    notes["untranslated"][lang] = [
        unit.key for unit in text_units(spec) if unit.key not in from_presets
    ]
    return study_from_data(data)


def remove_language(spec: Study, lang: str) -> Study:
    """`spec` without `lang`: its texts, interface strings and register removed everywhere."""
    if lang not in spec.languages:
        raise StudyError([("languages", f"'{lang}' is not a language of this study")])
    if lang == spec.default_language:
        raise StudyError(
            [
                (
                    "languages",
                    f"'{lang}' is the default language; make another language the default first",
                )
            ]
        )
    data = spec.model_dump(mode="json")
    for path in _paths(spec):
        value = _node(data, path)
        if isinstance(value, dict):
            value.pop(lang, None)
    data["languages"] = [code for code in spec.languages if code != lang]
    notes = _translation(data)
    for section in notes.values():
        section.pop(lang, None)
    return study_from_data(data)


def save_translation(
    spec: Study, lang: str, texts: Mapping[str, str], keep: Iterable[str] = ()
) -> Study:
    """`spec` with the texts of `lang` given by key; raises StudyError naming each bad key.

    A text changed here that now differs from the default language's, or whose key is in
    `keep` (the same on purpose: a name, a number), is no longer untranslated. A text sent
    back as it was changes nothing: saving the view unchanged keeps the study's hash, and a
    copy of an earlier default-language text stays marked after the default text is edited.
    """
    if lang not in spec.languages:
        raise StudyError([("languages", f"'{lang}' is not a language of this study")])
    units = {unit.key: unit for unit in text_units(spec)}
    problems = [(key, "is not a text of this study") for key in texts if key not in units]
    problems += [
        (key, "expected a text, got an empty one") for key, t in texts.items() if not t.strip()
    ]
    if problems:
        raise StudyError(problems)
    default = spec.default_language
    data = spec.model_dump(mode="json")
    changed = [
        key
        for key, text in texts.items()
        if _put(data, spec, units[key], lang, text.replace("\r\n", "\n"))
    ]
    notes = _translation(data)
    done = set(keep)
    edited = study_from_data({**data, "translation": None})
    for key in changed:
        if units[key].text(edited, lang) != units[key].text(edited, default):
            done.add(key)
    if lang in notes["untranslated"]:
        notes["untranslated"][lang] = [k for k in notes["untranslated"][lang] if k not in done]
    _tidy(data, units)
    return study_from_data(data)


def _put(data: dict[str, Any], spec: Study, unit: TextUnit, lang: str, text: str) -> bool:
    """Write one text; False (nothing written) when it is the stored text, give or take the
    surrounding white space a form may add or drop."""
    before = unit.text(spec, lang)
    if before is not None and before.strip() == text.strip():
        return False
    value = _node(data, unit.path)
    default = spec.default_language
    if not isinstance(value, dict) and lang == default:
        # A plain text (one language) stays plain: the same study, the same hash.
        if unit.index is None:
            _set(data, unit.path, text)
        else:
            labels = list(value)
            labels[unit.index] = text
            _set(data, unit.path, labels)
        return True
    texts = dict(value) if isinstance(value, dict) else {default: value}
    if unit.index is None:
        texts[lang] = text
    else:
        labels = list(texts.get(lang) or texts[default])
        labels[unit.index] = text
        texts[lang] = labels
    _set(data, unit.path, texts)
    return True


def save_interface(
    spec: Study, lang: str, strings: Mapping[str, str], register: str | None = None
) -> Study:
    """`spec` with `lang`'s own interface strings (an empty text removes one) and register.

    `register` None or the catalog's own register keeps the catalog's; only strings that
    differ from what the catalog would show need be given.
    """
    if lang not in spec.languages:
        raise StudyError([("languages", f"'{lang}' is not a language of this study")])
    known = set(interface_msgids())
    unknown = [(m, "is not an interface string of framelab") for m in strings if m not in known]
    if unknown:
        raise StudyError(unknown)
    data = spec.model_dump(mode="json")
    notes = _translation(data)
    own = notes["interface"].setdefault(lang, {})
    for msgid, text in strings.items():
        if text.strip():
            own[msgid] = text.strip()
        else:
            own.pop(msgid, None)
    offered = CATALOG_REGISTERS.get(lang.split("-")[0], ())
    stated = notes["registers"].get(lang)
    if register == (stated or (offered[0] if offered else None)):
        # The register in effect, sent back: a study file that states the catalog's own
        # register keeps saying so (same study, same hash).
        pass
    elif register and offered and register != offered[0]:
        notes["registers"][lang] = register
    else:
        notes["registers"].pop(lang, None)
    _tidy(data, (unit.key for unit in text_units(spec)))
    return study_from_data(data)
