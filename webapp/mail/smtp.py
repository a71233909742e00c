"""Handing a message to the SMTP server of the settings (SMTP_*). No Flask imports beyond the
config it is given; the password never reaches a log or an error message."""
import smtplib
import ssl


class MailRefused(Exception):
    """The server said no. `permanent`: a 5xx, which no retry cures; `reason` its words."""

    def __init__(self, code, reason, permanent):
        super().__init__(f"{code} {reason}")
        self.code, self.reason, self.permanent = code, reason, permanent


def configured(config):
    """Whether e-mail is on: an SMTP host is set."""
    return bool(config.get("SMTP_HOST"))


def send(config, message):
    """Send `message` (an EmailMessage with From and To set). Raises MailRefused for the
    server's refusal, OSError (and smtplib's errors) for anything a retry may cure."""
    security = config.get("SMTP_SECURITY") or "starttls"
    host, port, timeout = config["SMTP_HOST"], config["SMTP_PORT"], config.get("SMTP_TIMEOUT", 20)
    context = ssl.create_default_context()
    if security == "ssl":
        server = smtplib.SMTP_SSL(host, port, timeout=timeout, context=context)
    else:
        server = smtplib.SMTP(host, port, timeout=timeout)
    try:
        if security == "starttls":
            server.starttls(context=context)
        if config.get("SMTP_USERNAME"):
            server.login(config["SMTP_USERNAME"], config.get("SMTP_PASSWORD") or "")
        server.send_message(message)
    except smtplib.SMTPRecipientsRefused as exc:
        code, reason = next(iter(exc.recipients.values()))
        raise _refused(code, reason) from None
    except smtplib.SMTPResponseException as exc:  # sender refused, data refused, auth failed
        raise _refused(exc.smtp_code, exc.smtp_error) from None
    finally:
        try:
            server.quit()
        except (smtplib.SMTPException, OSError):
            server.close()


def _refused(code, reason):
    text = reason.decode("utf-8", "replace") if isinstance(reason, bytes) else str(reason)
    return MailRefused(code, text[:500], permanent=500 <= int(code) < 600)
