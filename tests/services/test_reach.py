"""Channel links and invitation lists (issue 21) at the service level."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from framelab.db.models import Participant
from framelab.db.reach import ChannelLink, Recipient, RecipientListEntry
from framelab.domain.contact_lists import ContactListError, read_contact_ids
from framelab.services import channel_links, recipient_lists
from framelab.services.flow import submit_step, withdraw
from framelab.services.participant_store.reach import (
    INVITED_SOURCE,
    InvitationWithdrawn,
    LinkNotFound,
    channel_arrival,
    consent_from_invitation,
    invitation,
    token_hash,
)
from framelab.services.pseudonyms import TESTING_KEY, PseudonymKey
from framelab.services.study_versions import get_study
from tests.factories import publish
from tests.participants import enrol
from tests.services.conftest import NOW

LINK = "https://example.org/i/{}".format


def _upload(session, study_id, text: str, *, name="Members", column="", key=TESTING_KEY):
    return recipient_lists.upload_recipient_list(
        session,
        study_id,
        text.encode(),
        name=name,
        column=column,
        key=key,
        link_for=LINK,
        now=NOW,
    )


def _tokens(upload) -> dict[str, str]:
    lines = upload.csv.decode().splitlines()
    assert lines[0] == "contact_id,link"
    return {
        contact: link.removeprefix("https://example.org/i/")
        for contact, link in (line.split(",") for line in lines[1:])
    }


@pytest.fixture
def study(session, example_spec):
    publish(session, example_spec)
    loaded = get_study(session, example_spec.slug)
    session.rollback()
    return loaded


def test_a_channel_link_has_a_short_unique_code_and_a_fixed_source(session, study):
    sms = channel_links.create_channel_link(session, study.id, kind="sms", name="", now=NOW)
    poster = channel_links.create_channel_link(
        session, study.id, kind="poster", name="Poster at Bahnhof Zoo", now=NOW
    )
    assert channel_links.CODE.match(sms.code) and sms.code != poster.code
    assert (sms.name, sms.source) == ("SMS", "sms")
    assert poster.source == "poster-at-bahnhof-zoo"
    with pytest.raises(channel_links.ChannelLinkError, match="already has a link"):
        channel_links.create_channel_link(session, study.id, kind="custom", name="sms", now=NOW)
    with pytest.raises(channel_links.ChannelLinkError, match="letter or digit"):
        channel_links.create_channel_link(session, study.id, kind="custom", name="!!", now=NOW)
    assert [link.name for link in channel_links.channel_links(session, study.id)] == [
        "SMS",
        "Poster at Bahnhof Zoo",
    ]


def test_channel_qr_codes_are_svg_and_png(session, study):
    svg = channel_links.qr_image("https://example.org/c/abcdefg", "svg")
    png = channel_links.qr_image("https://example.org/c/abcdefg", "png")
    assert svg.lstrip().startswith(b"<?xml") and b"<svg" in svg
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    with pytest.raises(ValueError):
        channel_links.qr_image("x", "gif")


def test_opening_a_channel_link_counts_it_and_consent_sets_its_source(session, study):
    link = channel_links.create_channel_link(session, study.id, kind="sms", name="", now=NOW)
    entry, arrival = channel_arrival(session, link.code, {})
    entry, arrival = channel_arrival(session, link.code, {})
    assert arrival.study is not None and arrival.returning is None
    assert channel_links.channel_links(session, study.id)[0].opened == 2
    _entry, _ = channel_arrival(session, link.code, {}, count=False)
    assert channel_links.channel_links(session, study.id)[0].opened == 2
    with pytest.raises(LinkNotFound):
        channel_arrival(session, "zzzzzzz", {})
    person = enrol(session, study.slug, now=NOW, source=entry.source)
    assert person.channel_id is None  # the study link sets no channel
    from framelab.services.flow import consent_from_link

    code, _result = consent_from_link(
        session,
        study.slug,
        {"consent": "yes"},
        language="en",
        source=entry.source,
        channel=entry.id,
        now=NOW,
    )
    row = session.scalar(sa.select(Participant).where(Participant.code == code))
    assert (row.source, row.channel_id) == ("sms", link.id)
    withdraw(session, code, now=NOW)
    session.refresh(row)
    assert (row.source, row.channel_id) == (None, None)


def test_contact_lists_are_read_whole_or_refused_with_rows_named():
    assert read_contact_ids(b"id\n a1 \n\nb2\na1\n") == ["a1", "b2"]
    assert read_contact_ids("\ufeffname;member\nx;m1\ny;m2\n".encode(), "Member") == ["m1", "m2"]
    assert read_contact_ids(b"phone\n+44 7700 900123\n") == ["+44 7700 900123"]
    cases = {
        b"": "empty",
        b"a,b\n1,2\n": "several columns ('a', 'b')",
        b"\xff\xfe": "not UTF-8",
    }
    for data, message in cases.items():
        with pytest.raises(ContactListError, match=re.escape(message)):
            read_contact_ids(data)
    with pytest.raises(ContactListError, match=r"no column 'id'.*'member'"):
        read_contact_ids(b"member\n1\n", "id")
    with pytest.raises(ContactListError, match=r"no contact id in line 3.*formula.* line 4"):
        read_contact_ids(b"a,id\n1,x\n2,\n3,=cmd()\n", "id")
    with pytest.raises(ContactListError, match="no contact ids below"):
        read_contact_ids(b"id\n")


def test_an_upload_invites_each_contact_once_and_gives_the_same_links_again(session, study):
    first = _upload(session, study.id, "id\nm-1\nm-2\nm-3\nm-2\n")
    assert (first.contacts, first.new) == (3, 3)
    links = _tokens(first)
    assert set(links) == {"m-1", "m-2", "m-3"}
    assert all(len(t) == 22 for t in links.values()) and len(set(links.values())) == 3
    again = _upload(session, study.id, "id\nm-3\nm-4\n", name="Second list")
    assert (again.contacts, again.new) == (2, 1)
    assert _tokens(again)["m-3"] == links["m-3"]
    assert session.scalar(sa.select(sa.func.count()).select_from(Recipient)) == 4
    assert session.scalar(sa.select(sa.func.count()).select_from(RecipientListEntry)) == 5
    # The same list's name again adds nothing twice.
    _upload(session, study.id, "id\nm-1\n")
    sizes = {v.name: v.size for v in recipient_lists.recipient_lists(session, study.id)}
    assert sizes == {"Members": 3, "Second list": 2}
    # Only the hash of a token is stored; another key makes other tokens.
    stored = set(session.scalars(sa.select(Recipient.token_hash)))
    assert {token_hash(t) for t in links.values()} <= stored
    other = PseudonymKey((b"k" * 32,))
    assert recipient_lists.invitation_token(other, "n") != recipient_lists.invitation_token(
        TESTING_KEY, "n"
    )


def test_a_refused_upload_stores_nothing(session, study):
    with pytest.raises(ContactListError):
        _upload(session, study.id, "id\nok\n\n@bad\n")
    with pytest.raises(ContactListError, match="name"):
        _upload(session, study.id, "id\nok\n", name="  ")
    assert session.scalar(sa.select(sa.func.count()).select_from(Recipient)) == 0
    assert recipient_lists.recipient_lists(session, study.id) == []


def test_an_invitation_enrols_on_consent_once_and_resumes_but_never_withdraws(session, study):
    token = _tokens(_upload(session, study.id, "id\nm-1\n"))["m-1"]
    shown = invitation(session, token)
    assert shown.code is None and shown.study is not None
    assert session.scalar(sa.select(sa.func.count()).select_from(Participant)) == 0
    assert consent_from_invitation(session, token, {}, language="en", now=NOW)[1] is None
    slug, code, result = consent_from_invitation(
        session, token, {"consent": "yes"}, language="en", now=NOW
    )
    assert slug == study.slug and result.ok
    again = consent_from_invitation(
        session, token, {"consent": "yes"}, language="en", now=NOW + timedelta(minutes=1)
    )
    assert again == (study.slug, code, None)
    assert invitation(session, token).code == code
    row = session.scalar(sa.select(Participant).where(Participant.code == code))
    assert (row.source, session.scalar(sa.select(sa.func.count()).select_from(Participant))) == (
        INVITED_SOURCE,
        1,
    )
    assert submit_step(session, code, "pre", {}, now=NOW).errors  # the code goes on as usual
    withdraw(session, code, now=NOW + timedelta(hours=1))
    with pytest.raises(InvitationWithdrawn):
        invitation(session, token)
    with pytest.raises(InvitationWithdrawn):
        consent_from_invitation(session, token, {"consent": "yes"}, language="en", now=NOW)
    recipient = session.scalar(sa.select(Recipient))
    assert (recipient.participant_id, recipient.withdrawn) == (None, True)
    with pytest.raises(LinkNotFound):
        invitation(session, "A" * 22)


def test_rotation_rekeys_the_pseudonyms_and_keeps_the_links(tmp_path, database_url, study, session):
    from framelab.db.session import make_engine
    from framelab.services.pseudonyms import load_or_create_key, rotate, verify_database

    path = tmp_path / "key"
    key = load_or_create_key(path)
    engine = make_engine(database_url)
    try:
        verify_database(engine, key, now=NOW)
        token = _tokens(_upload(session, study.id, "id\nm-1\n", key=key))["m-1"]
        before = session.scalar(sa.select(Recipient.pseudonym))
        session.rollback()
        assert rotate(engine, path, now=NOW).rekeyed["recipient"] == 1
        rotated = load_or_create_key(path)
        again = _upload(session, study.id, "id\nm-1\n", key=rotated, name="Again")
        assert (again.new, _tokens(again)["m-1"]) == (0, token)
        assert session.scalar(sa.select(Recipient.pseudonym)) != before
    finally:
        engine.dispose()


def test_channel_links_belong_to_the_campaign(session, study):
    link = channel_links.create_channel_link(session, study.id, kind="email", name="", now=NOW)
    stored = session.get(ChannelLink, link.id)
    assert stored.study_id == study.id and stored.opened == 0


def test_erasing_the_campaign_deletes_its_invitation_lists(session, study):
    from framelab.services.erasure import campaign_studies, erase_studies

    tokens = _tokens(_upload(session, study.id, "id\nm-1\nm-2\n"))
    consent_from_invitation(session, tokens["m-1"], {"consent": "yes"}, language="en", now=NOW)
    (tombstone,) = erase_studies(
        session, campaign_studies(session, study.slug), now=NOW, reason="erase-study"
    )
    assert tombstone.counts["recipient"] == 2 and tombstone.counts["recipient_list"] == 1
    for model in (Recipient, RecipientListEntry, Participant):
        assert session.scalar(sa.select(sa.func.count()).select_from(model)) == 0
    with pytest.raises(LinkNotFound):
        invitation(session, tokens["m-2"])


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=400), column=st.text(max_size=20))
def test_any_uploaded_bytes_are_read_or_refused_with_a_message(data, column):
    try:
        contacts = read_contact_ids(data, column)
    except ContactListError as error:
        assert str(error)
    else:
        assert contacts and all(c and c == c.strip() for c in contacts)


def test_a_field_larger_than_the_csv_limit_is_refused_with_a_message():
    with pytest.raises(ContactListError, match=r"not a readable CSV|over 200 characters"):
        read_contact_ids(b'id\n"' + b"x" * 200_000 + b'"\n')


def test_one_invitation_consented_at_once_from_eight_browsers_is_one_participant(
    factory, session, study
):
    import threading

    token = _tokens(_upload(session, study.id, "id\nm-1\n"))["m-1"]
    session.rollback()
    start = threading.Barrier(8)
    codes: list[str] = []

    def consent() -> None:
        with factory() as own:
            start.wait()
            _slug, code, _ = consent_from_invitation(
                own, token, {"consent": "yes"}, language="en", now=NOW
            )
            codes.append(code)

    threads = [threading.Thread(target=consent) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(codes) == 8 and len(set(codes)) == 1
    assert session.scalar(sa.select(sa.func.count()).select_from(Participant)) == 1


def test_the_same_list_uploaded_at_once_invites_each_contact_once(factory, session, study):
    import threading

    start = threading.Barrier(4)
    uploads = []

    def upload() -> None:
        with factory() as own:
            start.wait()
            uploads.append(_upload(own, study.id, "id\nm-1\nm-2\n"))

    threads = [threading.Thread(target=upload) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(uploads) == 4 and len({u.csv for u in uploads}) == 1
    assert session.scalar(sa.select(sa.func.count()).select_from(Recipient)) == 2
    assert session.scalar(sa.select(sa.func.count()).select_from(RecipientListEntry)) == 2
