"""The operations of an OpenAPI 3 or Swagger 2 document, JSON or YAML."""
import json
from urllib.parse import urlsplit

import yaml

HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
MAX_ENDPOINTS = 2000
MAX_SUMMARY = 500
MAX_ENVIRONMENT = 100  # the request's environment field holds 100 characters
MAX_ENVIRONMENTS = 50


def load(raw):
    """The document of an OpenAPI 3 / Swagger 2 text (JSON or YAML); ValueError if it is not one."""
    try:
        document = json.loads(raw)
    except ValueError:
        try:
            document = yaml.safe_load(raw)
        except (yaml.YAMLError, RecursionError):
            raise ValueError("not JSON or YAML") from None
    except RecursionError:
        raise ValueError("nested too deep") from None
    if not isinstance(document, dict) or not isinstance(document.get("paths"), dict):
        raise ValueError("no paths")
    return document


def endpoints_from_openapi(raw):
    """[(METHOD, path, summary or None)] from an OpenAPI 3 / Swagger 2 document (its text, or
    what load() made of it), in its order; ValueError if it is not one."""
    document = raw if isinstance(raw, dict) else load(raw)
    prefix = _base_path(document)
    found = []
    for path, operations in document["paths"].items():
        if not isinstance(path, str) or not isinstance(operations, dict):
            continue
        full = (prefix + "/" + path.lstrip("/")) if prefix else path
        for method, operation in operations.items():
            if str(method).upper() in HTTP_METHODS:
                found.append((str(method).upper(), full[:500], _summary(operation)))
        if len(found) >= MAX_ENDPOINTS:
            break
    return found[:MAX_ENDPOINTS]


def _summary(operation):
    """The operation's summary on one line, if it has one."""
    text = operation.get("summary") if isinstance(operation, dict) else None
    return one_line(text)


def one_line(text):
    """Text from a document as a summary column holds it: one line, no NUL; None for none."""
    if not isinstance(text, str) or not text.strip():
        return None
    return " ".join(text.replace("\x00", "").split())[:MAX_SUMMARY]


def _base_path(document):
    """The path part every operation sits under: Swagger's basePath or the first server's."""
    base = document.get("basePath")
    if not isinstance(base, str):
        servers = document.get("servers")
        url = servers[0].get("url") if isinstance(servers, list) and servers and isinstance(servers[0], dict) else ""
        base = urlsplit(url).path if isinstance(url, str) and "{" not in url else ""
    return base.rstrip("/")


def environments_from_openapi(document):
    """The environments a loaded document names, in its order: OpenAPI 3's `servers` (each
    one's description, else its URL), Swagger 2's host and basePath under each scheme."""
    names = []
    servers = document.get("servers")
    for server in servers if isinstance(servers, list) else ():
        if isinstance(server, dict):
            names.append(one_line(server.get("description")) or one_line(server.get("url")))
    host = document.get("host")
    if isinstance(host, str) and host.strip() and not servers:
        base = document.get("basePath") if isinstance(document.get("basePath"), str) else ""
        schemes = [s for s in document.get("schemes") or () if isinstance(s, str)] or ["https"]
        names += [one_line(f"{scheme}://{host.strip()}{base}") for scheme in schemes]
    return list(dict.fromkeys(name[:MAX_ENVIRONMENT] for name in names if name))[:MAX_ENVIRONMENTS]
