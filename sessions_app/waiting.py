"""Waiting: how long a session's first arrival waited for the other side, and what a
contact-centre lead reads from it (service level against a target, abandonment).

Definitions, written once (the README's "Waiting and service level" and the overview's note say
the same in words):

- **Time to join** runs from the first participant's arrival to the other side's. Glance lists
  both sides among a session's guests, each with its own `startTime`: the subscriber's side
  (`agent`, `host`) and the customer's (`visitor`, `guest`). The first start of each side is
  taken, and the wait is the later minus the earlier, in whole seconds, whichever side came
  first. The session's own `startTime` is not used: in the seed's samples it is the second
  side's arrival. Where the guests' types do not tell the sides apart (empty or unknown types),
  or one side never came, the wait is unknown (None), never 0. So is a wait longer than a day
  (MAX_WAIT): a start time like 0001-01-01 is a default, not an arrival.
- **Answered** sessions ended connected (C, X); **abandoned** ones ended while waiting (Q: the
  waiting side gave up; T: nobody joined in time). Together they are the **offered** sessions.
- **Abandoned rate** = abandoned / offered.
- **Service level** = answered sessions joined within the partner's target time / offered
  sessions. Abandons count as misses (leaving them out would flatter the figure, and no
  short-abandon allowance is made). An answered session whose wait is unknown is left out of
  both sides: it is neither proof of a quick join nor of a slow one. Where the wait is unknown
  for more than half of the answered sessions (a partner whose records carry no guest types),
  no service level is given: the abandons, always counted, would drag it towards 0%.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sessions_app.codes import CONNECTED_STATUSES, NOT_CONNECTED_STATUSES, SUBSCRIBER_GUEST_TYPES

# The customer's side of a session: the visitor of a cobrowse session, the guest of a share.
CUSTOMER_GUEST_TYPES = ("visitor", "guest")
ANSWERED_STATUSES = CONNECTED_STATUSES
ABANDONED_STATUSES = NOT_CONNECTED_STATUSES
OFFERED_STATUSES = ANSWERED_STATUSES + ABANDONED_STATUSES

# A partner's service-level target until its admins set one: the textbook 80% in 20 s is for
# phone queues; a co-browse join takes the agent a few more clicks.
DEFAULT_TARGET_SECONDS = 30
DEFAULT_TARGET_PERCENT = 80
MAX_WAIT = 86_400  # seconds; a longer "wait" is a wrong start time, not a visitor waiting
MIN_KNOWN_SHARE = 0.5  # of answered sessions, with a known wait, for a service level


def side_of(guest_type: str | None) -> str | None:
    """ "subscriber", "customer", or None where the type does not say (Glance's types are an open
    set, compared without case or surrounding spaces)."""
    kind = (guest_type or "").strip().lower()
    if kind in SUBSCRIBER_GUEST_TYPES:
        return "subscriber"
    if kind in CUSTOMER_GUEST_TYPES:
        return "customer"
    return None


def time_to_join(guests: Iterable[tuple[str | None, datetime | None]]) -> int | None:
    """Seconds from the first arrival to the other side's first arrival, from (guest type, start
    time) pairs; None where either side's first arrival is unknown."""
    first: dict[str, datetime] = {}
    for guest_type, start in guests:
        side = side_of(guest_type)
        if side is None or start is None:
            continue
        if side not in first or start < first[side]:
            first[side] = start
    if len(first) < 2:
        return None
    earlier, later = sorted(first.values())
    wait = int((later - earlier).total_seconds())
    return wait if wait <= MAX_WAIT else None


IN_TIME, LATE, UNKNOWN, ABANDONED = (
    "answered in time",
    "answered late",
    "answered, wait unknown",
    "abandoned",
)


def waiting_outcome(status: str, wait: int | None, target_seconds: int) -> str:
    """Where one session stands in the service level: IN_TIME, LATE, UNKNOWN (left out of
    it), ABANDONED (a miss), or "" for a session neither answered nor abandoned."""
    if status in ABANDONED_STATUSES:
        return ABANDONED
    if status not in ANSWERED_STATUSES:
        return ""
    if wait is None:
        return UNKNOWN
    return IN_TIME if wait <= target_seconds else LATE


@dataclass(frozen=True)
class Target:
    """A service-level target: `percent` of offered sessions joined within `seconds`."""

    seconds: int = DEFAULT_TARGET_SECONDS
    percent: int = DEFAULT_TARGET_PERCENT

    def __str__(self) -> str:
        return f"{self.percent}% in {self.seconds} s"


def target_of(partner) -> Target:
    return Target(partner.service_level_seconds, partner.service_level_percent)


def targets_of(partners: Iterable) -> dict[int, Target]:
    return {partner.pk: target_of(partner) for partner in partners}


def common_target(targets: Iterable[Target]) -> Target | None:
    """The one target every partner shown shares, or None where they differ (or none is shown)."""
    distinct = set(targets)
    return distinct.pop() if len(distinct) == 1 else None
