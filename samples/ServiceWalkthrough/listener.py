#!/usr/bin/env python3
"""A webhook receiver for `defect serve`: checks every X-Defect-Signature (HMAC-SHA256 of "<timestamp>.<body>" with the
shared secret), refuses old timestamps and unsigned or wrongly signed posts (401), and appends one JSON line per
delivery to --out: {"event", "delivery", "valid", "timestamp", "signature", "raw" (the body as received), "body"}.

    python3 listener.py --port 9000 --secret a-long-shared-secret --out events.jsonl
"""
import argparse, hashlib, hmac, json, sys, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, default=9000)
    p.add_argument("--secret", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--max-age", type=int, default=300, help="seconds a timestamp may be old")
    a = p.parse_args()
    secret = a.secret.encode()

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            ts = self.headers.get("X-Defect-Timestamp", "")
            sig = self.headers.get("X-Defect-Signature", "")
            expected = "sha256=" + hmac.new(secret, ts.encode() + b"." + body, hashlib.sha256).hexdigest()
            fresh = ts.isdigit() and abs(time.time() - int(ts)) <= a.max_age
            valid = fresh and hmac.compare_digest(expected, sig)
            line = {"event": self.headers.get("X-Defect-Event"), "delivery": self.headers.get("X-Defect-Delivery"),
                    "valid": valid, "timestamp": ts, "signature": sig, "raw": body.decode("utf-8"),
                    "body": json.loads(body or b"null")}
            with open(a.out, "a") as f:
                f.write(json.dumps(line) + "\n")
            self.send_response(200 if valid else 401)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", a.port), Hook)
    print(f"listening on http://127.0.0.1:{a.port}/hook", flush=True)
    server.serve_forever()

if __name__ == "__main__":
    sys.exit(main())
