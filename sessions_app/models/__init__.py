"""What glancedash stores, one module per concern; every model is importable from here, as the
rest of the app and the migrations import them (app label sessions_app).
"""

from sessions_app.models.audit import AuditEvent
from sessions_app.models.outputs import (
    AlertRule,
    ApiToken,
    ExportJob,
    KioskLink,
    LiveCounts,
    ReportSchedule,
    SavedView,
)
from sessions_app.models.partners import (
    Invitation,
    Membership,
    Partner,
    Profile,
    Role,
    default_api_url,
    default_sync_minutes,
    email_list,
)
from sessions_app.models.rollups import (
    AgentRollup,
    AgentRollupMonth,
    SessionRollup,
    SessionRollupMonth,
    StaleRollupMonth,
    SummedMeasures,
)
from sessions_app.models.sessions import Agent, Guest, Place, Session, Team
from sessions_app.models.sync import CompletenessCheck, SyncRun

__all__ = [
    "Agent",
    "AgentRollup",
    "AgentRollupMonth",
    "AlertRule",
    "ApiToken",
    "AuditEvent",
    "CompletenessCheck",
    "ExportJob",
    "Guest",
    "Invitation",
    "KioskLink",
    "LiveCounts",
    "Membership",
    "Partner",
    "Place",
    "Profile",
    "ReportSchedule",
    "Role",
    "SavedView",
    "Session",
    "SessionRollup",
    "SessionRollupMonth",
    "StaleRollupMonth",
    "SummedMeasures",
    "SyncRun",
    "Team",
    "default_api_url",
    "default_sync_minutes",
    "email_list",
]
