from functools import cached_property

from django.utils import timezone

from sessions_app.accounts import access
from sessions_app.models import Role


def nav(request):
    """What the navigation bar may offer; evaluated only when a template asks."""

    class Nav:
        @cached_property
        def is_admin(self):
            return access.is_any_admin(request.user)

        @cached_property
        def is_analyst(self):
            return access.partners_for(request.user, Role.ANALYST).exists()

    # The zone every |date in the page is shown in (the user's, activated by the middleware).
    return {"nav": Nav(), "TIME_ZONE_NAME": timezone.get_current_timezone_name()}
