"""Messages for people that are stored or passed along (a failed delivery's reason, the pause,
each "Save and Test" line): kept as a message id and its parameters, shown in the reader's
language. The ids are English and sit in the catalogs like every page's strings."""
from flask_babel import gettext

from .jira import JiraError
from .jira.texts import N_, TEXT, message, render

__all__ = ["N_", "message", "from_error", "translated", "english"]


def from_error(exc):
    """What to store about a failure: a JiraError's advice and what Jira said; any other
    exception's own words, as they are."""
    if isinstance(exc, JiraError):
        return exc.as_message()
    return message(TEXT, text=str(exc))


def translated(stored):
    """A stored message in the reader's language ("" for none): the Jinja filter `message`."""
    return render(stored, gettext) if stored else ""


def english(stored):
    """A stored message in English, for the command line and logs."""
    return render(stored) if stored else ""
