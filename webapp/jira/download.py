"""The download call of JiraClient: an attachment's content, streamed, with the credentials
kept to Jira's own site whatever the redirects say."""
from urllib.parse import urljoin

import requests

from .errors import JiraDownloadRefusedError, JiraError, JiraTransientError, error_from_response
from .urls import ApiPath, is_login_page, origin

REDIRECTS = (301, 302, 303, 307, 308)


class DownloadCalls:
    """Mixed into JiraClient (`_send`, `_check_host`, `session`, `timeout`, `base_url`)."""

    def download_attachment(self, attachment_id, fileobj, content_url=None, chunk_size=64 * 1024):
        """Stream attachment content into ``fileobj``; return the number of bytes written.

        ``content_url`` is the attachment's ``content`` as Jira listed it: Cloud's
        /attachment/content/{id}, Data Center's /secure/attachment/{id}/{filename}. It is used
        only on Jira's own origin; elsewhere (or without one) Cloud's resource is asked, by id.
        Cloud answers with a 303 to a media host. Redirects are followed by hand so the
        credentials go only to the Jira site itself, never to another host. Jira's log-in page
        instead of the file (a redirect to it, or HTML) is JiraDownloadRefusedError.
        """
        own = bool(content_url) and origin(content_url) == origin(self.base_url)
        if not own and self.deployment != "cloud":
            raise JiraError("Jira gave no download address on its own site for this file")
        response = self._send("GET", content_url if own else ApiPath("/attachment/content/{id}", attachment_id),
                              expected=(200,) + REDIRECTS, allow_redirects=False, stream=True)
        for _ in range(5):
            if response.status_code not in REDIRECTS:
                break
            target = urljoin(response.url, response.headers.get("Location", ""))
            response.close()
            if origin(target) == origin(self.base_url):
                if is_login_page(target):
                    raise JiraDownloadRefusedError("redirected to the log-in page")
                response = self._send("GET", target, expected=(200,) + REDIRECTS,
                                      allow_redirects=False, stream=True)
            else:
                response = self._fetch_foreign(target, stream=True)
        if response.status_code != 200:
            response.close()
            raise JiraError("Too many redirects while downloading the attachment")
        if own and "/secure/" in content_url and response.headers.get("Content-Type", "").startswith("text/html") \
                and not content_url.lower().endswith((".html", ".htm")):
            response.close()  # a log-in page where a file should be (a single sign-on in front)
            raise JiraDownloadRefusedError("answered with an HTML page instead of the file")
        written = 0
        with response:
            for block in response.iter_content(chunk_size):
                fileobj.write(block)
                written += len(block)
        return written

    def _fetch_foreign(self, url, **kwargs):
        """GET a URL on another host: no credentials at all."""
        self._check_host(url)
        try:
            response = self.session.get(url, timeout=self.timeout, allow_redirects=False,
                                        auth=None, **kwargs)
        except requests.RequestException as exc:
            raise JiraTransientError(f"Attachment download failed ({type(exc).__name__})") from None
        if response.status_code >= 400:
            raise error_from_response(response.status_code, response.headers, "", None, "GET", url)
        return response
