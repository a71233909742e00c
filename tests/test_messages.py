"""Messages for people are stored as a message id and its parameters, and shown in the reader's
language: the same row reads in English to one admin and in Turkish to another."""
from webapp import messages
from webapp.crypto import SecretUnreadable
from webapp.extensions import db
from webapp.jira import JiraAuthError, JiraForbiddenError
from webapp.models import JiraSettings, SupportRequest


def test_a_jira_error_is_stored_as_its_message_id_and_what_jira_said(app, shown):
    stored = messages.from_error(JiraForbiddenError(error_messages=["No permission."], context={"project_key": "SUP"}))
    assert stored == {"id": "The Jira account lacks permission for this action (403). Give it Browse, Create issues "
                            "and Create attachments permissions in project %(project)s.",
                      "params": {"project": "SUP"}, "jira": "No permission."}
    assert shown(stored).endswith("permissions in project SUP. Jira said: No permission.")
    assert shown(stored, "tr").startswith("Jira hesabının bu işlem için yetkisi yok (403). SUP projesinde")
    assert shown(stored, "tr").endswith(" Jira yanıtı: No permission.")  # Jira's own words, as it said them
    assert messages.english(stored) == shown(stored)


def test_other_errors_keep_their_own_words(app, shown):
    stored = messages.from_error(SecretUnreadable("The stored secret cannot be decrypted."))
    assert "jira" not in stored
    assert shown(stored) == shown(stored, "tr") == "The stored secret cannot be decrypted."
    assert messages.english(None) == messages.translated(None) == ""


def test_the_reader_chooses_the_language_of_one_stored_row(client, admin):
    settings = JiraSettings.get()
    settings.paused_reason = messages.from_error(JiraAuthError("Unauthorized"))
    request = SupportRequest(reporter_id=admin.id, label="Bug", summary="Refunds fail", description="d",
                             delivery_state="queued", last_error=settings.paused_reason)
    db.session.add(request)
    db.session.commit()
    english = client.get("/admin/deliveries?state=queued").get_data(as_text=True)
    turkish = client.get("/admin/deliveries?state=queued", headers={"Accept-Language": "tr"}).get_data(as_text=True)
    assert english.count("Jira rejected the credentials (401).") == 2  # the pause and the request's reason
    assert english.count("Jira said: Unauthorized") == 2
    assert turkish.count("Jira kimlik bilgilerini reddetti (401).") == 2
    assert turkish.count("Jira yanıtı: Unauthorized") == 2 and "Jira rejected" not in turkish


def test_the_command_line_says_it_in_english(runner, make_user):
    reporter = make_user()
    db.session.add(SupportRequest(reporter_id=reporter.id, label="Bug", summary="Refunds fail", description="d",
                                  delivery_state="failed", last_error=messages.from_error(JiraAuthError("Unauthorized"))))
    db.session.commit()
    listing = runner.invoke(args=["deliveries", "list", "--state", "failed"]).output
    assert "Refunds fail  Jira rejected the credentials (401)." in listing and "Jira said: Unauthorized" in listing
