"""The app's routes. The project's urls.py includes them at the root, without a namespace:
templates and redirects use these bare names."""

from django.contrib.auth import views as auth_views
from django.urls import path

from sessions_app.views import (
    accounts,
    agent_names,
    alert_rules,
    api,
    audit_log,
    dashboard,
    exports,
    health,
    invitations,
    partners,
    reports,
    saved_views,
    sessions,
    wallboard,
)

account_urls = [
    path("account/", accounts.preferences, name="preferences"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", accounts.LogoutView.as_view(), name="logout"),
    path("account/password/", accounts.PasswordChangeView.as_view(), name="password_change"),
    path("account/email/<str:token>/", accounts.email_confirm, name="email_confirm"),
    path(
        "account/password/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("account/reset/", accounts.PasswordResetView.as_view(), name="password_reset"),
    path("invitations/<str:token>/", invitations.invitation_accept, name="invitation_accept"),
    path(
        "account/reset/sent/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "account/reset/<uidb64>/<token>/",
        accounts.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "account/reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
]

partner_urls = [
    path("partners/", partners.partner_list, name="partner_list"),
    path("partners/new/", partners.partner_create, name="partner_create"),
    path("partners/<int:pk>/", partners.partner_detail, name="partner_detail"),
    path("partners/<int:pk>/edit/", partners.partner_edit, name="partner_edit"),
    path("partners/<int:pk>/test/", partners.partner_test, name="partner_test"),
    path("partners/<int:pk>/sync/", partners.partner_sync, name="partner_sync"),
    path("partners/<int:pk>/status.json", partners.partner_status, name="partner_status"),
    path("partners/<int:pk>/access/", partners.access_grant, name="access_grant"),
    path("partners/<int:pk>/agents/", agent_names.agent_names, name="agent_names"),
    path("partners/<int:pk>/teams/", agent_names.team_add, name="team_add"),
    path(
        "partners/<int:pk>/teams/<int:team_pk>/remove/",
        agent_names.team_remove,
        name="team_remove",
    ),
    path("partners/<int:pk>/alerts/", alert_rules.alert_create, name="alert_create"),
    path("partners/<int:pk>/kiosk/", wallboard.kiosk_create, name="kiosk_create"),
    path(
        "partners/<int:pk>/kiosk/<int:link_pk>/revoke/",
        wallboard.kiosk_revoke,
        name="kiosk_revoke",
    ),
    path("partners/<int:pk>/alerts/check/", alert_rules.alert_check, name="alert_check"),
    path(
        "partners/<int:pk>/alerts/<int:rule_pk>/delete/",
        alert_rules.alert_delete,
        name="alert_delete",
    ),
    path(
        "partners/<int:pk>/access/<int:membership_pk>/revoke/",
        partners.access_revoke,
        name="access_revoke",
    ),
]

dashboard_urls = [
    path("", dashboard.overview, name="overview"),
    path("geography/", dashboard.geography, name="geography"),
    path("agents/", dashboard.agent_list, name="agent_list"),
    path("agents/<int:pk>/", dashboard.agent_detail, name="agent_detail"),
    path("sessions/", sessions.session_list, name="session_list"),
    path("sessions/export.<str:file_format>", exports.export, name="export"),
    path("exports/<int:pk>/", exports.export_job, name="export_job"),
    path("exports/<int:pk>/status.json", exports.export_job_status, name="export_job_status"),
    path("exports/<int:pk>/download", exports.export_job_download, name="export_job_download"),
    path("sessions/<int:pk>/", sessions.session_detail, name="session_detail"),
    path("sync/", dashboard.sync_overview, name="sync_overview"),
    path("wallboard/", wallboard.wallboard_page, name="wallboard"),
    path("wallboard/data.json", wallboard.wallboard_data, name="wallboard_data"),
    path("views/", saved_views.saved_view_list, name="saved_view_list"),
    path("views/new/", saved_views.saved_view_create, name="saved_view_create"),
    path("views/<int:pk>/", saved_views.saved_view_open, name="saved_view_open"),
    path("views/<int:pk>/delete/", saved_views.saved_view_delete, name="saved_view_delete"),
    path("views/<int:pk>/reports/", reports.report_create, name="report_create"),
    path("reports/<int:pk>/preview/", reports.report_preview, name="report_preview"),
    path("reports/<int:pk>/send/", reports.report_send, name="report_send"),
    path("reports/<int:pk>/delete/", reports.report_delete, name="report_delete"),
    path("charts/session-timeline/<int:pk>/", sessions.session_timeline, name="session_timeline"),
    path("charts/<slug:name>/", dashboard.chart, name="chart"),
]

urlpatterns = [
    *dashboard_urls,
    path("audit/", audit_log.audit_list, name="audit_list"),
    path("api/openapi.json", api.schema, name="api_schema"),
    path("api/v1/aggregates", api.aggregates, name="api_aggregates"),
    path("api/v1/sessions", api.sessions, name="api_sessions"),
    path("account/tokens/", api.token_list, name="api_tokens"),
    path("account/tokens/<int:pk>/revoke/", api.token_revoke, name="api_token_revoke"),
    path("kiosk/<str:token>/", wallboard.kiosk_page, name="kiosk_page"),
    path("kiosk/<str:token>/data.json", wallboard.kiosk_data, name="kiosk_data"),
    path("healthz", health.healthz, name="healthz"),
    path("healthz.json", health.healthz_json, name="healthz_json"),
    path("favicon.ico", health.favicon, name="favicon"),
    *account_urls,
    *partner_urls,
]
