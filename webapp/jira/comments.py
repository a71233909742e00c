"""Which Jira comments a portal user may see.

Jira returns every comment to the integration account, including agents' internal notes.
Show one only when it has no visibility restriction (role or group) and is not an internal
Service Management note: ``jsdPublic`` false, or the ``sd.public.comment`` property saying
``internal: true`` (present when comments are read with ``expand=properties``).
"""


def is_public_comment(comment):
    if comment.get("visibility"):
        return False
    if comment.get("jsdPublic") is False:
        return False
    for prop in comment.get("properties") or []:
        if prop.get("key") == "sd.public.comment" and (prop.get("value") or {}).get("internal"):
            return False
    return True


def author_name(comment):
    """The author's display name; never the e-mail address."""
    return ((comment.get("author") or {}).get("displayName")) or "Support"
