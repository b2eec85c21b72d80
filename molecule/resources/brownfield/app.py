"""The brownfield app: a small HTTP service between nginx and PostgreSQL.

GET /        the number of orders and a checksum of the table, read from the
             database on every request (so a request fails when any of the
             three services is down)
GET /health  the process answers (the container's health check)
Logs one line per request to stderr. Like most apps it keeps its database
connection open (a pool of one) and connects again when it breaks.
"""

import http.server
import json
import os
import sys
import threading

import psycopg2

DSN = os.environ.get("SHOP_DSN", "host=db dbname=shop user=shop connect_timeout=5")
PORT = int(os.environ.get("SHOP_PORT", "8000"))
SUMMARY = "SELECT count(*), md5(coalesce(string_agg(id || ':' || item || ':' || amount, ',' ORDER BY id), '')) FROM orders"


class Database(object):
    """One connection, shared by the request threads one at a time; a broken one is replaced once
    per request (the database was restarted or replaced since)."""

    def __init__(self, dsn):
        self.dsn = dsn
        self.lock = threading.Lock()
        self.connection = None

    def summary(self):
        with self.lock:
            try:
                return self._query()
            except psycopg2.Error:
                self._close()
                return self._query()

    def _query(self):
        if self.connection is None:
            self.connection = psycopg2.connect(self.dsn)
            self.connection.autocommit = True
        with self.connection.cursor() as cursor:
            cursor.execute(SUMMARY)
            count, checksum = cursor.fetchone()
        return {"orders": count, "checksum": checksum}

    def _close(self):
        try:
            self.connection.close()
        except (psycopg2.Error, AttributeError):
            pass
        self.connection = None


DATABASE = Database(DSN)


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802  (the name http.server calls)
        if self.path == "/health":
            self._answer(200, {"status": "ok"})
            return
        try:
            self._answer(200, DATABASE.summary())
        except psycopg2.Error as error:
            self._answer(503, {"error": str(error).strip()})

    def _answer(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format, *args):  # noqa: A002  (http.server's signature)
        sys.stderr.write("%s %s\n" % (self.address_string(), format % args))


if __name__ == "__main__":
    http.server.ThreadingHTTPServer(("", PORT), Handler).serve_forever()
