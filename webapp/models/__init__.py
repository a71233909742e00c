"""The data model of the whole portal, one module per area; every model is importable from
here (`from webapp.models import SupportRequest`), as Alembic and the code expect."""
from .base import MAX_ID, as_id, column_text, UTCDateTime, utcnow
from .accounts import LoginFailure, SetPasswordToken, User
from .settings import ApinizerSettings, AppState, JiraSettings, JiraStatus
from .catalog import ApiEndpoint, ApiProduct, Category, Label
from .requests import (
    DOWNLOAD_REFUSED, Attachment, DeliveryState, DuplicateIssue, KeptUpload, new_reference, SupportRequest,
)
from .conversation import (
    JiraComment, new_action_reference, new_reply_reference, Reply, StatusAction, StatusChange,
)
from .records import AuditLog, MailOutbox, SeenWebhook, UsedHandoverToken

__all__ = ["MAX_ID", "as_id", "column_text", "UTCDateTime", "utcnow", "LoginFailure", "SetPasswordToken", "User", "ApinizerSettings", "AppState", "JiraSettings", "JiraStatus", "ApiEndpoint", "ApiProduct", "Category", "Label", "DOWNLOAD_REFUSED", "Attachment", "DeliveryState", "DuplicateIssue", "KeptUpload", "new_reference", "SupportRequest", "JiraComment", "new_action_reference", "new_reply_reference", "Reply", "StatusAction", "StatusChange", "AuditLog", "MailOutbox", "SeenWebhook", "UsedHandoverToken"]
