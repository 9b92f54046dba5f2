"""Exit 0 if the PostgreSQL server of the given URL answers, 1 (saying why) if not."""

import sys

import psycopg

url = sys.argv[1]
# Connect to the maintenance database: the test database itself may not exist yet.
server_url = url.rsplit("/", 1)[0] + "/postgres"
try:
    psycopg.connect(server_url, connect_timeout=5).close()
except psycopg.Error as exc:
    print(f"PostgreSQL not reachable at {server_url}: {exc}".strip(), file=sys.stderr)
    sys.exit(1)
