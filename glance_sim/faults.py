"""Fault switches (mutable at any time) and the per-call request record."""

from dataclasses import dataclass, field, fields

MALFORMED_KINDS = (
    "truncated",
    "not_json",
    "wrong_shape",
    "wrong_content_type",  # the right body, labelled text/html
    "empty_page",  # no sessions, yet a nextId that leads on: that page's sessions are lost
    "repeat_last",  # the nextId points back at the page's last session: it comes twice
)
# The kinds that change which sessions a page holds, not how its body is written.
PAGE_KINDS = ("empty_page", "repeat_last")


@dataclass
class Faults:
    error_rate: float = 0.0
    error_status: int = 503
    fail_next: int = 0
    retry_after: int | None = None
    latency: float = 0.0
    auth_failure: bool = False
    malformed_calls: set[int] = field(default_factory=set)
    malformed_kind: str = "truncated"
    fail_after_calls: int | None = None
    mutate_between_calls: bool = False
    # Glance ids PartnerCompletedSessions leaves out while PartnerSessionCounts still counts
    # them: the listing and the counts disagree, as a completeness check must notice.
    hidden_sessions: set[int] = field(default_factory=set)

    def update(self, values):
        """Set fields from a JSON-ish mapping (control API); unknown names raise KeyError."""
        known = {f.name for f in fields(self)}
        for name, value in values.items():
            if name not in known:
                raise KeyError(name)
            if name in ("malformed_calls", "hidden_sessions"):
                value = {int(v) for v in value or ()}
            elif name == "malformed_kind" and value not in MALFORMED_KINDS:
                raise ValueError(f"malformed_kind must be one of {MALFORMED_KINDS}")
            setattr(self, name, value)

    def as_dict(self):
        d = {f.name: getattr(self, f.name) for f in fields(self)}
        d["malformed_calls"] = sorted(d["malformed_calls"])
        d["hidden_sessions"] = sorted(d["hidden_sessions"])
        return d


@dataclass(frozen=True)
class RequestRecord:
    operation: str
    params: dict
    status: int  # HTTP status answered; 0 when the connection was dropped
    content_type: str  # the request's media type, e.g. "application/json"
