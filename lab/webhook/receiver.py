"""The lab's Alertmanager webhook receiver: appends each POSTed body to /srv/alerts.jsonl (one line each).

Runs in a lab container (lab/create.yml) on the lab network; tests/lab reads the file back.
"""

import http.server
import json

LOG = "/srv/alerts.jsonl"


class Receiver(http.server.BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with open(LOG, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(json.loads(body)) + "\n")
        self.send_response(200)
        self.end_headers()


if __name__ == "__main__":
    open(LOG, "a").close()
    http.server.ThreadingHTTPServer(("0.0.0.0", 9099), Receiver).serve_forever()  # noqa: S104 (the lab network)
