"""The JQL subset the portal sends, parsed and evaluated the way Jira does.

Supported: clauses joined by AND on ``project``, ``key``/``issuekey``, ``id``, ``labels``,
``status``, ``updated``/``created`` (relative ``-5m``/``-2h``/``-1d``/``-1w`` and absolute
``"yyyy-MM-dd[ HH:mm]"`` or ``"yyyy/MM/dd[ HH:mm]"``) with = != in >= > <= <, then
``ORDER BY field [ASC|DESC], ...``. Anything else answers with Jira's 400 errors.
"""
import re
from datetime import datetime, timedelta, timezone

TOKEN_RE = re.compile(r'\s*(?:"((?:[^"\\]|\\.)*)"|(>=|<=|!=|=|>|<|\(|\)|,)|([^\s=!<>(),"]+))')
FIELDS = {"project", "key", "issuekey", "id", "labels", "status", "updated", "created"}
UNITS = {"w": 7 * 24 * 60, "d": 24 * 60, "h": 60, "m": 1}


class JqlError(Exception):
    """A query Jira would refuse: 400 with these error messages."""


def tokenize(jql):
    tokens, pos = [], 0
    jql = jql.rstrip()
    while pos < len(jql):
        match = TOKEN_RE.match(jql, pos)
        if not match or match.end() == pos:
            raise JqlError(f"Error in the JQL Query: the character '{jql[pos]}' is a reserved "
                           f"JQL character (line 1, character {pos + 1}).")
        quoted, op, word = match.groups()
        if quoted is not None:
            tokens.append(("str", re.sub(r"\\(.)", r"\1", quoted)))
        else:
            tokens.append(("op", op) if op else ("word", word))
        pos = match.end()
    return tokens


def parse(jql):
    """→ (clauses, order): clauses are (field, operator, [values]); order is [(field, desc)]."""
    tokens = tokenize(jql or "")
    clauses, order, i = [], [], 0
    lower = lambda k: tokens[k][1].lower() if k < len(tokens) and tokens[k][0] == "word" else None
    while i < len(tokens) and lower(i) != "order":
        if clauses:
            if lower(i) != "and":
                raise JqlError("Only AND is supported between clauses in this query.")
            i += 1
        if i + 2 > len(tokens):
            raise JqlError("Error in the JQL Query: Expecting operator but got the end of the query.")
        field = tokens[i][1].lower()
        if field not in FIELDS:
            raise JqlError(f"Field '{tokens[i][1]}' does not exist or you do not have permission "
                           f"to view it.")
        op = tokens[i + 1][1].lower()
        i += 2
        if op in ("in", "not"):
            if op == "not":
                i += 1
                op = "not in"
            values, i = _list(tokens, i)
        elif op in ("=", "!=", ">=", ">", "<=", "<"):
            if i >= len(tokens) or tokens[i][0] == "op":
                raise JqlError("Error in the JQL Query: Expecting either a value, list or "
                               "function but got the end of the query.")
            values = [tokens[i][1]]
            i += 1
        else:
            raise JqlError(f"Error in the JQL Query: unsupported operator '{op}'.")
        clauses.append((field, op, values))
    if lower(i) == "order":
        if lower(i + 1) != "by":
            raise JqlError("Error in the JQL Query: Expecting 'BY' after 'ORDER'.")
        i += 2
        while i < len(tokens):
            name = tokens[i][1].lower()
            if name not in ("updated", "created", "key", "id"):
                raise JqlError(f"Not able to sort using field '{tokens[i][1]}'.")
            desc = lower(i + 1) == "desc"
            i += 2 if lower(i + 1) in ("asc", "desc") else 1
            order.append((name, desc))
            if i < len(tokens) and tokens[i] == ("op", ","):
                i += 1
    if not clauses:
        raise JqlError("Unbounded JQL queries are not allowed here. Please add a search "
                       "restriction to your query.")
    return clauses, order


def _list(tokens, i):
    if i >= len(tokens) or tokens[i] != ("op", "("):
        raise JqlError("Error in the JQL Query: Expecting '(' after 'in'.")
    values, i = [], i + 1
    while i < len(tokens) and tokens[i] != ("op", ")"):
        if tokens[i] != ("op", ","):
            values.append(tokens[i][1])
        i += 1
    return values, i + 1


def parse_date(value, current):
    """A JQL date literal → aware datetime (UTC; the sim's accounts all live in UTC)."""
    relative = re.fullmatch(r"([-+]?)((?:\s*\d+[wdhm])+)", value.strip())
    if relative:
        minutes = sum(int(n) * UNITS[u] for n, u in re.findall(r"(\d+)([wdhm])", relative.group(2)))
        sign = -1 if relative.group(1) == "-" else 1
        return current + timedelta(minutes=sign * minutes)
    if value.isdigit():
        return datetime.fromtimestamp(int(value) / 1000, timezone.utc)
    for fmt in ("%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M", "%Y-%m-%d", "%Y/%m/%d"):
        try:
            return datetime.strptime(value, fmt).replace(tzinfo=timezone.utc)
        except ValueError:
            continue
    raise JqlError(f"Date value '{value}' for field 'updated' is invalid. Valid formats include: "
                   f"'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', 'yyyy-MM-dd', or a "
                   f"period format e.g. '-5d', '4w 2d'.")


def _compare(left, op, right):
    return {"=": left == right, "!=": left != right, ">=": left >= right, ">": left > right,
            "<=": left <= right, "<": left < right}[op]


def matches(issue, clauses, current, status_name):
    """Does ``issue`` (a state dict) satisfy every clause? ``current`` is now."""
    for field, op, values in clauses:
        if field in ("updated", "created"):
            when = issue[field].replace(second=0, microsecond=0)  # JQL precision is minutes
            if not _compare(when, op, parse_date(values[0], current).replace(second=0, microsecond=0)):
                return False
            continue
        if field == "project":
            have = {issue["project"], issue.get("project_id")}
        elif field in ("key", "issuekey"):
            have = {issue["key"], *issue.get("old_keys", [])}
        elif field == "id":
            have = {issue["id"]}
        elif field == "labels":
            have = set(issue["fields"].get("labels") or [])
        else:
            have = {status_name.lower()}
            values = [v.lower() for v in values]
        hit = bool(have & set(values))
        if (op in ("=", "in") and not hit) or (op in ("!=", "not in") and hit):
            return False
    return True


def sort_key(order):
    """A key function for sorted(), honouring ORDER BY (default: created DESC, like Jira)."""
    order = order or [("created", True)]

    def key(issue):
        parts = []
        for name, desc in order:
            value = issue.get(name) if name in ("updated", "created") else \
                int(issue["id"]) if name in ("id", "key") else issue.get(name, "")
            stamp = value.timestamp() if hasattr(value, "timestamp") else value
            parts.append(-stamp if desc else stamp)
        return parts
    return key
