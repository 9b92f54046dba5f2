"""What Glance's one-letter codes mean, as far as its documentation says. The sets are open:
a code not listed here is shown exactly as it came, never guessed at."""

SESSION_TYPES = {"C": "Cobrowse", "G": "Screen share", "V": "Video"}

SESSION_STATUSES = {
    "A": "Active",
    "C": "Completed",
    "D": "Dropped",
    "E": "Error",
    "J": "Setting up",
    "K": "Killed",
    "L": "Locked",
    "Q": "Quit while waiting",
    "T": "Timed out waiting",
    "U": "Unknown",
    "W": "Waiting",
    "X": "Completed, no clean close",
}

# Both count as a session in which the two sides connected (Glance's status documentation).
CONNECTED_STATUSES = ("C", "X")
# Both end a session in which nobody joined: the visitor or host gave up waiting (Q), or nobody
# joined in time (T).
NOT_CONNECTED_STATUSES = ("Q", "T")

# A guest of one of these types is the Glance user's own seat in the session (the agent, or the
# host of a screen share); every other guest is a visitor, whom the geography counts.
SUBSCRIBER_GUEST_TYPES = ("agent", "host")

# A session still under way: Glance's counts of "completed" sessions (status=C), which include
# every ended status (C, Q, T, X in its sample), leave these out.
LIVE_STATUSES = ("A", "W", "J")


# ISO weekdays (1 = Monday) and hours of the day, in the words every page uses.
WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
WEEKDAYS_PLURAL = ["Mondays", "Tuesdays", "Wednesdays", "Thursdays", "Fridays", "Saturdays",
                   "Sundays"]  # fmt: skip


def hour_label(hour: int) -> str:
    return f"{hour:02d}:00"


def hour_span(hour: int) -> str:
    """One hour of the day, "09:00–10:00"."""
    return f"{hour_label(hour)}–{hour_label(hour + 1)}"


def hour_choices(first: int, last: int) -> list[tuple[int, str]]:
    """(hour, "09:00") for the hours first to last, for a select."""
    return [(hour, hour_label(hour)) for hour in range(first, last + 1)]


def label(table: dict, code: str | None) -> str:
    if not code:
        return "(none)"
    return table.get(code, code)


def format_duration(seconds: float | None) -> str:
    """A duration with its units, to the precision a reader needs: "45 s", "7 min 51 s",
    "1 h 01 min" (seconds are noise beside hours), "2 d 03 h"."""
    if seconds is None:
        return "—"
    total = round(seconds)
    sign, total = ("−", -total) if total < 0 else ("", total)
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{sign}{days} d {hours:02d} h"
    if hours:
        return f"{sign}{hours} h {minutes:02d} min"
    if minutes:
        return f"{sign}{minutes} min {secs:02d} s"
    return f"{sign}{secs} s"
