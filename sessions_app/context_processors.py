from functools import cached_property

from sessions_app import access
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

    return {"nav": Nav()}
