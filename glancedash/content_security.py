"""The Content-Security-Policy header on every answer.

Everything the pages load comes from our own origin (plotly.js, the map outlines and our own
scripts are vendored under static/), and no template holds an inline script or event handler,
so the policy can say so: a guest name that slipped past escaping still could not run. Styles
allow 'unsafe-inline' because plotly.js writes its chart styles into a <style> element it makes
at run time; inline styles cannot run code. Django 6 has this built in; on 5.2 it is one header.
"""

from django.conf import settings

DIRECTIVES = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self' 'unsafe-inline'",
    "img-src": "'self' data: blob:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'none'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}

POLICY = "; ".join(f"{name} {value}" for name, value in DIRECTIVES.items())


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.policy = getattr(settings, "CONTENT_SECURITY_POLICY", POLICY)

    def __call__(self, request):
        response = self.get_response(request)
        if self.policy:
            response.headers.setdefault("Content-Security-Policy", self.policy)
        return response
