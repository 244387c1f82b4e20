"""Email notices over real SMTP (a local aiosmtpd server): sent once, failures recorded, resend."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from lotline.errors import Conflict, InvalidInput, InvalidStateTransition
from lotline.models import Customer, RecallCase, RecallCommunication
from lotline.recalls import service as recalls
from lotline.recalls.flows import notify
from lotline.recalls.schemas import CaseIn, DraftIn, RecordIn, TargetIn, TransitionIn
from tests.builders import sign
from tests.recalls.completion_support import with_strategy
from tests.smtp import free_port


@pytest.fixture
def notices(session, world):
    case = recalls.create_case(session, CaseIn(severity="critical", summary="Salmonella"))
    recalls.add_target(session, case.id, TargetIn(lot="F-1"))
    with_strategy(session, case)
    recalls.activate(session, case.id, TransitionIn(signature=sign(session)))
    recalls.compute_run(session, case.id)
    created = recalls.draft_communications(session, case.id, DraftIn(channel="email"))
    return case, {c.customer_id: c for c in created}


def _comm(session, world, notices, code):
    return notices[1][world.customers[code].id]


def test_an_email_notice_is_sent_over_smtp_once(session, world, notices, smtp):
    comm = _comm(session, world, notices, "ALPHA")
    result = notify.send_email(comm.id)
    assert result.status == "sent" and result.error is None
    assert len(smtp.messages) == 1 and smtp.encrypted == [False]  # LOTLINE_SMTP_SECURITY=none
    msg = smtp.messages[0]
    assert msg["Message-ID"] == result.message_id
    assert msg["To"] == "Alpha <alpha@example.com>" and msg["From"] == "recalls@bakery.example"
    assert "URGENT product recall" in msg["Subject"]
    assert "B-1" in msg.get_payload() and "SO-1" in msg.get_payload()
    session.refresh(comm)
    assert comm.status == "sent" and comm.external_ref == result.message_id and comm.sent_at is not None
    with pytest.raises(InvalidStateTransition, match="already sent .* it is not sent again"):
        notify.send_email(comm.id)
    assert len(smtp.messages) == 1


def test_a_refused_notice_is_marked_failed_with_the_reason_and_can_be_resent(session, world, notices, smtp):
    case = notices[0]
    comm = _comm(session, world, notices, "BETA")
    smtp.refuse.add("beta@example.com")
    results = notify.send_pending(case.id)
    by_code = {r.customer_code: r for r in results}
    assert by_code["BETA"].status == "failed" and "550" in by_code["BETA"].error
    assert {by_code["ALPHA"].status, by_code["DELTA"].status} == {"sent"}
    session.refresh(comm)
    assert comm.status == "failed" and comm.sent_at is None
    assert (
        comm.external_ref.startswith("failed: SMTP server 127.0.0.1")
        and "mailbox unavailable" in comm.external_ref
    )
    assert notify.send_pending(case.id) == []  # drafts only: nothing sent twice
    smtp.refuse.clear()
    again = notify.send_pending(case.id, include_failed=True)
    assert [(r.customer_code, r.status) for r in again] == [("BETA", "sent")]
    assert sorted(m["To"] for m in smtp.messages) == [
        "Alpha <alpha@example.com>",
        "Beta <beta@example.com>",
        "Delta <delta@example.com>",
    ]
    eff = recalls.effectiveness(session, case.id)
    assert (eff["customers_notified"], eff["customers_failed"]) == (3, 0)


def test_an_unreachable_server_fails_the_notice_without_marking_it_sent(session, world, notices, monkeypatch):
    monkeypatch.setenv("LOTLINE_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("LOTLINE_SMTP_PORT", str(free_port()))
    comm = _comm(session, world, notices, "DELTA")
    result = notify.send_email(comm.id)
    assert result.status == "failed" and "cannot reach SMTP server" in result.error
    session.refresh(comm)
    assert comm.status == "failed" and comm.sent_at is None
    eff = recalls.effectiveness(session, notices[0].id)
    assert (eff["customers_notified"], eff["customers_failed"]) == (0, 1)


def test_a_claimed_notice_is_not_sent_again_unless_forced(session, world, notices, smtp):
    comm = _comm(session, world, notices, "ALPHA")
    comm.external_ref = "sending <x@y> since 2026-01-01T00:00:00+00:00"
    session.flush()
    with pytest.raises(Conflict, match="resend with --force"):
        notify.send_email(comm.id)
    assert smtp.messages == []
    assert [r.customer_code for r in notify.send_pending(notices[0].id)] == ["BETA", "DELTA"]
    assert notify.send_email(comm.id, force=True).status == "sent"


def test_non_email_channels_are_recorded_by_hand_and_email_cannot_be(session, world, notices, smtp):
    comm = _comm(session, world, notices, "ALPHA")
    with pytest.raises(InvalidInput, match="sent over SMTP"):
        recalls.record_communication(session, comm.id, RecordIn(status="sent"))
    [phone] = recalls.draft_communications(
        session, notices[0].id, DraftIn(channel="phone", customers=["ALPHA"])
    )
    with pytest.raises(InvalidInput, match="goes by phone"):
        notify.send_email(phone.id)
    recalls.record_communication(session, phone.id, RecordIn(status="failed", reference="no answer"))
    assert phone.status == "failed" and phone.external_ref == "failed: no answer"
    recalls.record_communication(session, phone.id, RecordIn(status="sent", reference="call #12"))
    assert phone.status == "sent" and phone.sent_at is not None
    with pytest.raises(InvalidStateTransition, match="already recorded as sent"):
        recalls.record_communication(session, phone.id, RecordIn(status="sent"))


def test_a_customer_without_email_fails_clearly(session, world, notices, smtp):
    comm = _comm(session, world, notices, "DELTA")
    world.customers["DELTA"].contact_email = None
    session.flush()
    result = notify.send_email(comm.id)
    assert result.status == "failed" and result.error == "customer DELTA has no contact email"
    assert smtp.messages == []


def test_smtp_credentials_are_used_and_a_refused_login_fails_the_notice(session, world, notices, monkeypatch):
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    from tests.smtp import Inbox

    logins: list[tuple[bytes, bytes]] = []

    def authenticator(server, sess, envelope, mechanism, auth_data):
        logins.append((auth_data.login, auth_data.password))
        return AuthResult(success=auth_data.password == b"s3cret", handled=False)

    inbox, port = Inbox(), free_port()
    controller = Controller(
        inbox, hostname="127.0.0.1", port=port, authenticator=authenticator, auth_require_tls=False
    )
    controller.start()
    try:
        monkeypatch.setenv("LOTLINE_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("LOTLINE_SMTP_PORT", str(port))
        monkeypatch.setenv("LOTLINE_SMTP_USERNAME", "recalls")
        monkeypatch.setenv("LOTLINE_SMTP_PASSWORD", "wrong")
        comm = _comm(session, world, notices, "ALPHA")
        failed = notify.send_email(comm.id)
        assert failed.status == "failed" and "535" in failed.error and inbox.messages == []
        monkeypatch.setenv("LOTLINE_SMTP_PASSWORD", "s3cret")
        assert notify.send_email(comm.id).status == "sent"
        # smtplib tries each offered mechanism (PLAIN, then LOGIN) before giving up
        assert {user for user, _ in logins} == {b"recalls"} and logins[-1] == (b"recalls", b"s3cret")
        assert {pw for _, pw in logins[:-1]} == {b"wrong"} and len(inbox.messages) == 1
    finally:
        controller.stop()


def test_bad_smtp_security_setting_is_named_and_leaves_the_notice_unclaimed(
    session, world, notices, monkeypatch
):
    monkeypatch.setenv("LOTLINE_SMTP_SECURITY", "ssl3")
    comm = _comm(session, world, notices, "ALPHA")
    with pytest.raises(InvalidInput, match="LOTLINE_SMTP_SECURITY must be one of none, starttls, tls"):
        notify.send_email(comm.id)
    session.refresh(comm)
    assert (comm.status, comm.external_ref) == ("draft", None)  # a later send needs no --force


@pytest.fixture
def tls_server(tls_files, monkeypatch):
    """Start a local SMTP server speaking STARTTLS or implicit TLS with the self-signed certificate."""
    import ssl

    from aiosmtpd.controller import Controller

    from tests.smtp import Inbox

    cert, key = tls_files
    started = []

    def start(security: str) -> Inbox:
        server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        server_context.load_cert_chain(cert, key)
        inbox, port = Inbox(), free_port()
        if security == "starttls":
            controller = Controller(
                inbox, hostname="127.0.0.1", port=port, tls_context=server_context, require_starttls=True
            )
        else:
            controller = Controller(inbox, hostname="127.0.0.1", port=port, ssl_context=server_context)
        controller.start()
        started.append(controller)
        monkeypatch.setenv("LOTLINE_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("LOTLINE_SMTP_PORT", str(port))
        monkeypatch.setenv("LOTLINE_SMTP_SECURITY", security)
        return inbox

    yield start
    for controller in started:
        controller.stop()


@pytest.mark.parametrize("security", ["starttls", "tls"])
def test_notices_go_encrypted_to_a_relay_whose_private_ca_is_configured(
    session, world, notices, tls_server, tls_files, monkeypatch, security
):
    inbox = tls_server(security)
    monkeypatch.setenv("LOTLINE_SMTP_CA_FILE", str(tls_files[0]))
    result = notify.send_email(_comm(session, world, notices, "ALPHA").id)
    assert result.status == "sent", result.error
    assert inbox.encrypted == [True] and inbox.messages[0]["Message-ID"] == result.message_id


@pytest.mark.parametrize("security", ["starttls", "tls"])
def test_an_untrusted_server_certificate_fails_the_notice_and_says_what_to_set(
    session, world, notices, tls_server, security
):
    inbox = tls_server(security)  # the system CAs do not know the self-signed certificate
    comm = _comm(session, world, notices, "ALPHA")
    result = notify.send_email(comm.id)
    assert result.status == "failed" and inbox.messages == []
    assert "not trusted" in result.error and "LOTLINE_SMTP_CA_FILE" in result.error
    session.refresh(comm)
    assert comm.status == "failed" and comm.external_ref.startswith("failed: the TLS certificate")


def test_a_bad_ca_file_is_named_and_leaves_the_notice_unclaimed(
    session, world, notices, tls_server, tmp_path, monkeypatch
):
    tls_server("starttls")
    not_pem = tmp_path / "ca.pem"
    not_pem.write_text("not a certificate")
    comm = _comm(session, world, notices, "ALPHA")
    for ca_file in (str(tmp_path / "missing.pem"), str(not_pem)):
        monkeypatch.setenv("LOTLINE_SMTP_CA_FILE", ca_file)
        with pytest.raises(
            InvalidInput, match="LOTLINE_SMTP_CA_FILE .* cannot be read as PEM CA certificates"
        ):
            notify.send_email(comm.id)
        session.refresh(comm)
        assert (comm.status, comm.external_ref) == ("draft", None)


@pytest.mark.parametrize("port", ["smtp", "0", "70000", "-1"])
def test_a_bad_smtp_port_is_named_and_leaves_the_notice_unclaimed(session, world, notices, monkeypatch, port):
    monkeypatch.setenv("LOTLINE_SMTP_PORT", port)
    comm = _comm(session, world, notices, "ALPHA")
    with pytest.raises(InvalidInput, match="LOTLINE_SMTP_PORT must be a port number"):
        notify.send_email(comm.id)
    session.refresh(comm)
    assert (comm.status, comm.external_ref) == ("draft", None)


def test_line_breaks_in_names_and_numbers_never_reach_the_headers_and_a_bad_address_fails_alone(
    session, world, notices, smtp
):
    case = notices[0]
    # Data as it may sit in the database already (older versions accepted it).
    session.execute(
        sa.update(Customer).where(Customer.code == "ALPHA").values(name="Alpha\r\nBcc: spy@attacker.example")
    )
    session.execute(
        sa.update(Customer)
        .where(Customer.code == "BETA")
        .values(contact_email="beta@example.com\r\nRCPT TO:<spy@attacker.example>")
    )
    session.execute(
        sa.update(RecallCase)
        .where(RecallCase.id == case.id)
        .values(recall_number="RC-9\nBcc: spy@attacker.example")
    )
    alpha_notice = _comm(session, world, notices, "ALPHA")
    session.execute(
        sa.update(RecallCommunication)
        .where(RecallCommunication.id == alpha_notice.id)
        .values(subject="URGENT product recall\r\nBcc: spy@attacker.example")
    )
    session.flush()
    results = notify.send_pending(case.id)
    by_code = {r.customer_code: r for r in results}
    assert [r.customer_code for r in results] == ["ALPHA", "BETA", "DELTA"]  # the batch went on
    assert (by_code["ALPHA"].status, by_code["DELTA"].status) == ("sent", "sent")
    assert by_code["BETA"].status == "failed"
    assert "customer BETA's contact email" in by_code["BETA"].error
    assert "not a valid email address" in by_code["BETA"].error
    beta = _comm(session, world, notices, "BETA")
    session.refresh(beta)
    assert beta.status == "failed" and beta.external_ref.startswith("failed: customer BETA's contact email")
    assert len(smtp.messages) == 2
    for msg in smtp.messages:
        assert msg["Bcc"] is None and "spy@attacker.example" not in msg.get_all("To")[0].split("<")[-1]
        assert all("\n" not in v and "\r" not in v for v in msg.values())
    alpha = next(m for m in smtp.messages if "alpha@example.com" in m["To"])
    assert alpha["To"] == '"Alpha Bcc: spy@attacker.example" <alpha@example.com>'
    assert alpha["X-Lotline-Recall"] == "RC-9 Bcc: spy@attacker.example"
    assert alpha["Subject"] == "URGENT product recall Bcc: spy@attacker.example"
    assert smtp.recipients == [["alpha@example.com"], ["delta@example.com"]]
