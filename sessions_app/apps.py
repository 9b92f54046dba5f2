from django.apps import AppConfig


class SessionsAppConfig(AppConfig):
    name = "sessions_app"
    verbose_name = "Glance sessions"

    def ready(self):
        from sessions_app import schedules  # noqa: F401  (connects the Partner signals)
