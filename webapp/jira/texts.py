"""Messages for people, as data: an English message id, its parameters, and what Jira said.

This package has no Flask, so it cannot translate. It marks each message id with `N_` (which
`make messages` collects for the catalogs) and stores it with its parameters. The portal renders
the stored message in the reader's language (webapp/messages.py). `render` without a
`gettext` gives the English, for logs.
"""


def N_(msgid):
    """Mark a message id for the catalogs; it is translated where it is shown."""
    return msgid


TEXT = N_("%(text)s")  # words that have no message id of their own (an exception's, an old row's)
JIRA_SAID = N_("%(advice)s Jira said: %(jira)s")


def message(msgid, jira="", **params):
    """The stored shape: {"id": msgid, "params": {...}}, with "jira" when Jira said something."""
    stored = {"id": msgid, "params": params}
    if jira:
        stored["jira"] = jira
    return stored


def render(stored, gettext=N_):
    """A stored message as text: its id through `gettext`, then its parameters. What Jira said
    follows, itself never translated."""
    text = gettext(stored["id"]) % stored.get("params", {})
    if stored.get("jira"):
        text = gettext(JIRA_SAID) % {"advice": text, "jira": stored["jira"]}
    return text
