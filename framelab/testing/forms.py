"""Read HTML forms the way a browser would, and fill them the way a participant would.

The one reader of participant pages: the load generator, the simulated participants
(framelab.simulate) and the tests' walker all find a page's form, its step, its action
and its CSRF token here (`parse_page`, `page_form`, `page_step`, `form_action`,
`csrf_token`).

The load generator does not know a study's items: like a participant it reads the page,
finds the form, and answers every question with a value the form allows (a radio option,
a number within min/max, a select option). Hidden fields (CSRF token, step) are sent back
unchanged; honeypot fields stay empty.
"""

from __future__ import annotations

import html as html_lib
import random
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser


@dataclass
class FormField:
    """One named control; radio buttons and checkboxes of one name are grouped."""

    name: str
    kind: str  # radio | checkbox | select | range | number | text | textarea | hidden | submit
    options: list[str] = field(default_factory=list)
    value: str = ""
    minimum: int | None = None
    maximum: int | None = None
    required: bool = False
    # What the page shows as chosen: checked radio/checkbox options, selected select options.
    chosen: list[str] = field(default_factory=list)
    multiple: bool = False
    disabled: bool = False


@dataclass
class Form:
    action: str
    method: str
    fields: dict[str, FormField] = field(default_factory=dict)

    def hidden(self) -> dict[str, str]:
        return {n: f.value for n, f in self.fields.items() if f.kind == "hidden"}

    def as_shown(self, submit: str | None = None) -> list[tuple[str, str]]:
        """The pairs a browser sends when `submit` is clicked on the form as rendered:
        values as shown, checked boxes and selected options only, disabled controls left out
        (a select with nothing selected sends its first option)."""
        pairs: list[tuple[str, str]] = []
        for name, control in self.fields.items():
            if control.disabled:
                continue
            if control.kind == "submit":
                if name == submit:
                    pairs.append((name, control.value))
            elif control.kind in ("radio", "checkbox"):
                pairs += [(name, value) for value in control.chosen]
            elif control.kind == "select":
                chosen = control.chosen or ([] if control.multiple else control.options[:1])
                pairs += [(name, value) for value in chosen]
            else:
                pairs.append((name, control.value))
        return pairs


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._select: FormField | None = None
        self.marks: dict[str, str] = {}

    def _add(self, name: str, kind: str, attrs: dict[str, str | None]) -> FormField:
        assert self._form is not None
        existing = self._form.fields.get(name)
        if existing is None:
            existing = FormField(name=name, kind=kind)
            self._form.fields[name] = existing
        if "required" in attrs:
            existing.required = True
        if "disabled" in attrs:
            existing.disabled = True
        return existing

    def handle_starttag(self, tag: str, attr_list: list[tuple[str, str | None]]) -> None:
        attrs = dict(attr_list)
        if "data-step" in attrs and "step" not in self.marks:
            self.marks["step"] = attrs["data-step"] or ""
        if tag == "form":
            self._form = Form(
                action=attrs.get("action") or "", method=(attrs.get("method") or "get").lower()
            )
            self.forms.append(self._form)
            return
        if self._form is None:
            return
        name = attrs.get("name")
        if tag == "input" and name:
            kind = (attrs.get("type") or "text").lower()
            value = attrs.get("value") or ""
            if kind in ("radio", "checkbox"):
                control = self._add(name, kind, attrs)
                control.options.append(value or "on")
                if "checked" in attrs:
                    control.chosen.append(value or "on")
            elif kind in ("submit", "button", "image", "reset"):
                if kind == "submit" and name not in self._form.fields:
                    self._add(name, "submit", attrs).value = value
            else:
                control = self._add(name, kind, attrs)
                control.value = value
                for key, target in (("min", "minimum"), ("max", "maximum")):
                    raw = attrs.get(key)
                    if raw is not None and raw.lstrip("-").isdigit():
                        setattr(control, target, int(raw))
        elif tag == "textarea" and name:
            self._add(name, "textarea", attrs)
        elif tag == "select" and name:
            self._select = self._add(name, "select", attrs)
            self._select.multiple = "multiple" in attrs
        elif tag == "option" and self._select is not None:
            value = attrs.get("value")
            if value:
                self._select.options.append(value)
            if "selected" in attrs:
                self._select.chosen.append(value or "")
        elif (
            tag == "button"
            and name
            and (attrs.get("type") or "submit") == "submit"
            and name not in self._form.fields
        ):
            self._add(name, "submit", attrs).value = attrs.get("value") or ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None


# The tags a form is made of; everything else on the page is skipped unread.
_TAG = re.compile(
    r"<(/?)(form|input|select|option|textarea|button)\b((?:[^>\"']|\"[^\"]*\"|'[^']*')*)>",
    re.IGNORECASE,
)
_ATTRIBUTE = re.compile(r"""([^\s=/>"']+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>"']+)))?""")


def _attributes(text: str) -> list[tuple[str, str | None]]:
    found: list[tuple[str, str | None]] = []
    for match in _ATTRIBUTE.finditer(text):
        name, double, single, bare = match.groups()
        raw = next((v for v in (double, single, bare) if v is not None), None)
        found.append((name.lower(), None if raw is None else html_lib.unescape(raw)))
    return found


def parse_page(html: str) -> tuple[list[Form], dict[str, str]]:
    """Every form on the page, plus page marks (the first `data-step` attribute).

    The load generator parses every page its participants see, on the same cores as the
    server it measures: the form tags are found with one regular expression instead of
    html.parser, which took over a millisecond on a 13 KB page of questions.
    """
    parser = _FormParser()
    for match in _TAG.finditer(html):
        closing, tag, attributes = match.groups()
        if closing:
            parser.handle_endtag(tag.lower())
        else:
            found = _attributes(attributes)
            parser.handle_starttag(tag.lower(), found)
            name = dict(found).get("name")
            if tag.lower() == "textarea" and name and parser._form is not None:
                parser._form.fields[name].value = _textarea_text(html, match.end())
    mark = _STEP_MARK.search(html)
    if mark:
        parser.marks.setdefault("step", mark.group(1))
    return parser.forms, parser.marks


_STEP_MARK = re.compile(r'data-step="([A-Za-z0-9_-]+)"')
_TEXTAREA_END = re.compile(r"</textarea\s*>", re.IGNORECASE)


def _textarea_text(html: str, start: int) -> str:
    """A textarea's initial value: its content up to </textarea>, unescaped; a newline right
    after the start tag is not part of the value (HTML parsing rule)."""
    end = _TEXTAREA_END.search(html, start)
    text = html[start : end.start() if end else len(html)]
    if text.startswith("\r\n"):
        text = text[2:]
    elif text.startswith("\n"):
        text = text[1:]
    return html_lib.unescape(text)


# ------------------------------------------------------------ a participant page

STEP_FIELD = "step"


def page_form(forms: list[Form]) -> Form | None:
    """A participant page's own form: the first that carries the `step` field.

    None on a page with nothing left to answer (the debrief, whose only form withdraws).
    """
    return next((form for form in forms if STEP_FIELD in form.fields), None)


def page_step(html: str) -> str | None:
    """The step a participant page asks for (its form's `step` field); None without one."""
    form = page_form(parse_page(html)[0])
    return None if form is None else form.fields[STEP_FIELD].value


def form_action(html: str) -> str:
    """Where a participant page's form posts to; LookupError on a page without one."""
    form = page_form(parse_page(html)[0])
    if form is None or form.method != "post":
        raise LookupError("page has no form that posts a step")
    return form.action


def csrf_token(html: str) -> str:
    """The CSRF token of the page's first form that carries one; LookupError without."""
    for form in parse_page(html)[0]:
        token = form.fields.get("csrf_token")
        if token is not None:
            return token.value
    raise LookupError("page has no CSRF token")


TEXTS = ("Clear message.", "I was not sure about this.", "Thanks.", "ok")


def fill_form(
    form: Form,
    rng: random.Random,
    *,
    fixed: dict[str, str] | None = None,
    ignore: frozenset[str] = frozenset(),
) -> tuple[dict[str, str], dict[str, str]]:
    """Return (form data to post, answers given): every question answered with an allowed value.

    `fixed` forces values (e.g. consent=yes); `ignore` names fields left empty (honeypots).
    Answers are the non-hidden, non-empty values: what the server must store if it acknowledges.
    """
    fixed = fixed or {}
    data: dict[str, str] = {}
    answers: dict[str, str] = {}
    for name, control in form.fields.items():
        if control.kind == "hidden":
            data[name] = control.value
            continue
        if control.kind == "submit":
            data[name] = control.value
            continue
        if name in ignore:
            data[name] = ""
            continue
        if name in fixed:
            value = fixed[name]
        elif control.kind == "radio" or control.kind == "select":
            value = rng.choice(control.options) if control.options else ""
        elif control.kind == "checkbox":
            if rng.random() >= 0.5:
                continue
            value = control.options[0]
        elif control.kind in ("range", "number"):
            low = 0 if control.minimum is None else control.minimum
            high = 100 if control.maximum is None else control.maximum
            value = str(rng.randint(low, high))
        elif control.kind == "textarea":
            value = rng.choice(TEXTS) if rng.random() < 0.3 else ""
        else:
            # Free text inputs that are not required stay empty: that is where honeypots hide.
            value = "x" if control.required else ""
        data[name] = value
        if value != "":
            answers[name] = value
    return data, answers
