"""The comment calls of JiraClient: reading an issue's comments, and posting a portal reply
as one public comment that a retry can find again by its marker (webapp/replies.py)."""
from .adf import text_to_adf, text_to_wiki
from .comments import INTERNAL_PROPERTY, REPLY_PROPERTY, reply_line
from .records import Comment
from .urls import ApiPath


class CommentCalls:
    """Mixed into JiraClient (`_json`, `_pages`, `deployment`)."""

    def comments(self, issue_id_or_key, page_size=100):
        """Yield every comment of the issue as a Comment, oldest first. On Data Center with
        its properties (whether it is an internal note) and the HTML Jira renders from its
        wiki markup."""
        params = {"orderBy": "created"}
        if self.deployment != "cloud":
            params["expand"] = "properties,renderedBody"
        for comment in self._pages(ApiPath("/issue/{issueIdOrKey}/comment", issue_id_or_key), ("comments",),
                                   params=params, page_size=page_size):
            yield Comment.from_json(comment)

    def add_reply(self, issue_id_or_key, text, reference, files=()):
        """Post a portal reply as a public comment; return its Comment. ``files``: names of
        files already attached to the issue, named at its end. Cloud: ADF, with the reply's
        ``reference`` as a comment property (and an explicit "not internal" for Service
        Management); Data Center: wiki text, the reference on its last line."""
        path = ApiPath("/issue/{issueIdOrKey}/comment", issue_id_or_key)
        if self.deployment == "cloud":
            if files:
                text += "\n\nAttached: " + ", ".join(files)
            body = {"body": text_to_adf(text), "properties": [
                {"key": REPLY_PROPERTY, "value": {"reply": reference}},
                {"key": INTERNAL_PROPERTY, "value": {"internal": False}}]}
        else:
            wiki = text_to_wiki(text)
            if files:  # [^name] is wiki's link to the issue's attachment of that name
                wiki += "\n\nAttached: " + ", ".join(f"[^{name}]" for name in files)
            body = {"body": wiki + "\n\n" + reply_line(reference)}
        return Comment.from_json(self._json("POST", path, expected=(201,), json=body))

    def find_reply(self, issue_id_or_key, reference):
        """The id of the issue's comment that delivered portal reply ``reference``, or None:
        a retry after a lost answer adopts it instead of posting again. Cloud returns comment
        properties only from ``/comment/list?expand=properties``; Data Center's marker is in
        the body."""
        comments = list(self.comments(issue_id_or_key))
        if self.deployment != "cloud":
            return next((c.id for c in comments if c.reply == reference), None)
        ids = [int(c.id) for c in comments if c.id.isdigit()]
        for start in range(0, len(ids), 1000):  # at most 1000 ids a call, answered in one page
            data = self._json("POST", "/comment/list", params={"expand": "properties"},
                              json={"ids": ids[start:start + 1000]})
            for item in data.get("values") if isinstance(data.get("values"), list) else []:
                comment = Comment.from_json(item)
                if comment.reply == reference:
                    return comment.id
        return None
