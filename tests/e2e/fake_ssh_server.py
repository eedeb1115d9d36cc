#!/usr/bin/env python3
"""A hostile "SSH server" on 127.0.0.1 for the end-to-end tests (issue 13, item 5).

Listens on a free loopback port, prints the port on stdout, and answers every connection with the
bytes given in hex as argv[1] (a version line holding invalid UTF-8 and terminal escapes), then
closes. Runs until killed.
"""
import socket
import sys

payload = bytes.fromhex(sys.argv[1])
server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("127.0.0.1", 0))
server.listen(8)
print(server.getsockname()[1], flush=True)
while True:
    connection, _ = server.accept()
    try:
        connection.sendall(payload)
        connection.settimeout(2)
        try:
            connection.recv(4096)  # let the client send its own version line first
        except OSError:
            pass
    finally:
        connection.close()
