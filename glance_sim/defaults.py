"""Every behaviour the Glance docs leave open, chosen once here (glance-activity-api.md §8, §9)."""

# --- HTTP surface -----------------------------------------------------------------------------
ENDPOINT_PATH = "/services/activityservice.asmx"
XML_NAMESPACE = "http://www.glancenetworks.com/services"
OPERATIONS = {
    "PartnerCompletedSessions": (
        "partnerId",
        "apiKey",
        "startRange",
        "endRange",
        "sessionKey",
        "nResults",
        "nextId",
    ),
    "PartnerSessionCounts": ("partnerId", "apiKey", "type", "status", "startRange", "endRange"),
}

# JSON "__type" placeholders: the seed shows the first three; the count one follows their pattern.
TYPE_GROUP = "ActivityService+groupSessions"
TYPE_USER = "ActivityService+userSessions"
TYPE_SESSION = "ActivityService+session"
TYPE_COUNT = "ActivityService+sessionCount"

# The seed's JSON guests carry no clientVersion/protocolVersion/error (its XML guests do).
# True adds them to JSON guests too.
JSON_GUEST_EXTRAS = False

# --- faults (ASMX style: 500 + {"Message","StackTrace","ExceptionType"}, header jsonerror: true)
AUTH_MESSAGE = "Invalid partnerId or apiKey."
AUTH_EXCEPTION = "System.UnauthorizedAccessException"
RANGE_MESSAGE = "The maximum date range is 31 days."
RANGE_EXCEPTION = "System.ArgumentException"
MISSING_PARAM_JSON = "Invalid web service call, missing value for parameter: '{name}'."
MISSING_PARAM_FORM = "Missing parameter: {name}."
MISSING_PARAM_EXCEPTION = "System.InvalidOperationException"
BAD_INT_MESSAGE = "Cannot convert {value} to System.Int32."
BAD_INT_EXCEPTION = "System.ArgumentException"
BAD_DATE_MESSAGE = "String was not recognized as a valid DateTime."
BAD_DATE_EXCEPTION = "System.FormatException"
BAD_JSON_MESSAGE = "Invalid JSON primitive: {snippet}."
BAD_JSON_EXCEPTION = "System.ArgumentException"
UNKNOWN_OP_MESSAGE = "Request format is unrecognized for URL unexpectedly ending in '/{op}'."
UNKNOWN_OP_EXCEPTION = "System.InvalidOperationException"
GET_MESSAGE = (
    "An attempt was made to call the method '{op}' using a GET request, which is not allowed."
)
GET_EXCEPTION = "System.InvalidOperationException"
BAD_FORMAT_MESSAGE = "Request format is invalid: {content_type}."
BAD_FORMAT_EXCEPTION = "System.InvalidOperationException"
# Wrong key: "fault" (500) or "empty" (a normal, empty answer), §9.5.
AUTH_FAILURE_MODE = "fault"
INJECTED_ERROR_BODY = (
    "<html><head><title>{reason}</title></head><body><h1>{status} {reason}</h1></body></html>"
)
MALFORMED_HTML = (
    "<html><head><title>Runtime Error</title></head>"
    "<body><h1>Server Error in '/' Application.</h1></body></html>"
)

# --- semantics ------------------------------------------------------------------------------------
MAX_RANGE_DAYS = 31  # end - start may equal this; anything longer is a fault
DEFAULT_MAX_RESULTS = 1000  # nResults cap; <= 0 asks for the cap
LOCAL_TZ = "America/New_York"  # zone-less and date-only inputs (§3.3)
ENDED_STATUSES = frozenset("CXQTDEKU")  # what PartnerCompletedSessions serves and status=C counts
ACTIVE_STATUS, WAITING_STATUS = "A", "W"  # what a live session reports to status=A counts
LIVE_AS_WAITING = frozenset("QTDE")  # sessions bound to end like this are still Waiting while live
MUTABLE_FRACTION = 10  # 1 in N of the C/X sessions flip X<->C with version parity
MUTABLE_EXTRA_SECONDS = 30

# --- id scheme: id = ID_BASE + hour_index * ID_PER_HOUR + n (n < ID_PER_HOUR)
# hour_index counts hours since ID_EPOCH (UTC). 2036-01-01 is hour 140256 -> id < 1.42e9 (int32).
ID_EPOCH = "2020-01-01T00:00:00+00:00"
ID_BASE = 10_000_000
ID_PER_HOUR = 10_000
