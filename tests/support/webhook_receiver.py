#!/usr/bin/python3
"""A webhook receiver for the tests: python3's http.server on 127.0.0.1.

Usage: webhook_receiver.py DIR STATUS
Binds a free port, writes it to DIR/port, then stores the body of every POST as DIR/post-N.json
(with its Content-Type in DIR/post-N.type) and answers STATUS (e.g. 200, or 500 to play a
receiver that refuses).
"""
import http.server
import pathlib
import sys

directory = pathlib.Path(sys.argv[1])
status = int(sys.argv[2])


class Receiver(http.server.BaseHTTPRequestHandler):
    count = 0

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(min(length, 1 << 20))
        Receiver.count += 1
        stem = directory / f"post-{Receiver.count}"
        stem.with_suffix(".type").write_text(self.headers.get("Content-Type", ""))
        stem.with_suffix(".json").write_bytes(body)
        self.send_response(status)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


server = http.server.HTTPServer(("127.0.0.1", 0), Receiver)
(directory / "port.tmp").write_text(str(server.server_address[1]))
(directory / "port.tmp").rename(directory / "port")
server.serve_forever()
