#!/usr/bin/python3
"""An SMTP relay that demands STARTTLS and AUTH, for the tests: Debian's python3-aiosmtpd.

Usage: smtp_tls_server.py DIR CERT KEY USER PASSWORD
Binds a free port on 127.0.0.1 (written to DIR/port), offers STARTTLS with CERT/KEY, refuses
MAIL before STARTTLS (require_starttls) and AUTH outside TLS (auth_require_tls), accepts AUTH
PLAIN/LOGIN only for USER/PASSWORD, and refuses mail from an unauthenticated session. Each
accepted message is stored as DIR/message-N.eml; DIR/sessions.log gets one line per event
("auth ok USER", "auth refused", "message tls=True auth=USER"), never the password itself.
Runs until SIGTERM.
"""
import pathlib
import signal
import socket
import ssl
import sys
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

directory = pathlib.Path(sys.argv[1])
certificate, key, user, password = sys.argv[2:6]
log_lock = threading.Lock()


def log(line):
    with log_lock, open(directory / "sessions.log", "a", encoding="utf-8") as out:
        out.write(line + "\n")


def authenticate(server, session, envelope, mechanism, auth_data):
    good = (isinstance(auth_data, LoginPassword) and auth_data.login.decode() == user and
            auth_data.password.decode() == password)
    log(("auth ok " + user) if good else "auth refused")
    return AuthResult(success=good)


class Handler:
    count = 0

    async def handle_MAIL(self, server, session, envelope, address, options):
        if not session.authenticated:
            return "530 5.7.0 Authentication required"
        envelope.mail_from = address
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        Handler.count += 1
        (directory / f"message-{Handler.count}.eml").write_bytes(envelope.original_content)
        log(f"message tls={session.ssl is not None} auth={user if session.authenticated else ''}")
        return "250 Message accepted"


context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
context.load_cert_chain(certificate, key)
probe = socket.socket()
probe.bind(("127.0.0.1", 0))
port = probe.getsockname()[1]
probe.close()
controller = Controller(Handler(), hostname="127.0.0.1", port=port, tls_context=context,
                        require_starttls=True, authenticator=authenticate,
                        auth_require_tls=True, auth_exclude_mechanism=["CRAM-MD5"])
controller.start()
(directory / "port.tmp").write_text(str(port))
(directory / "port.tmp").rename(directory / "port")
stop = threading.Event()
signal.signal(signal.SIGTERM, lambda *_: stop.set())
stop.wait()
controller.stop()
