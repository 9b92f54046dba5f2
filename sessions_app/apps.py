from django.apps import AppConfig


class SessionsAppConfig(AppConfig):
    name = "sessions_app"
    verbose_name = "Glance sessions"

    def ready(self):
        # Importing them connects their signal receivers.
        from sessions_app.accounts import audit  # noqa: F401
        from sessions_app.notify import alerts  # noqa: F401
        from sessions_app.sync import schedules  # noqa: F401
