"""A secret shown once (a new API token, a kiosk link): in the body of the answer to the POST
that made it, with no-store caching, never in the messages cookie (signed, not encrypted: anyone
who reads the cookie reads the secret) nor in a URL that browsers and proxies log."""

from django.shortcuts import render
from django.utils.cache import add_never_cache_headers


def one_time_secret(request, **context):
    response = render(request, "one_time_secret.html", context)
    add_never_cache_headers(response)  # no-store, so no back button or proxy keeps a copy
    return response
