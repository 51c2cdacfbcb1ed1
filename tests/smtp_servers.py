"""Mail servers for the tests, on the loopback interface: one that works, one that hangs."""

from __future__ import annotations

import contextlib
import socket
import threading


class SMTPSink:
    """A minimal SMTP server that keeps what it receives, one session after the other.

    ``sessions``: how many connections it serves before it stops. With ``gate``, it accepts
    nobody until the gate is set: a connection made before waits in the backlog, as with a
    server that has not greeted yet.
    """

    def __init__(self, sessions: int = 1, gate: threading.Event | None = None) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.port = self.sock.getsockname()[1]
        self.sessions = sessions
        self.gate = gate
        self.received: list[tuple[list[str], str]] = []
        self.thread = threading.Thread(target=self.serve_all, daemon=True)
        self.thread.start()

    def serve_all(self) -> None:
        if self.gate is not None:
            self.gate.wait()
        for _ in range(self.sessions):
            self.serve()

    def serve(self) -> None:
        connection, _ = self.sock.accept()
        with connection, connection.makefile("rb") as reader:
            send = lambda line: connection.sendall(line.encode() + b"\r\n")  # noqa: E731
            send("220 sink")
            recipients: list[str] = []
            while line := reader.readline().decode():
                verb = line[:4].upper()
                if verb in ("EHLO", "HELO"):
                    send("250 sink")
                elif verb == "MAIL":
                    recipients = []
                    send("250 ok")
                elif verb == "RCPT":
                    recipients.append(line.split(":", 1)[1].strip(" <>\r\n"))
                    send("250 ok")
                elif verb == "DATA":
                    send("354 go on")
                    body = []
                    while (data := reader.readline().decode()) != ".\r\n":
                        body.append(data)
                    self.received.append((recipients, "".join(body)))
                    send("250 queued")
                elif verb == "QUIT":
                    send("221 bye")
                    return
                else:
                    send("250 ok")

    def close(self) -> None:
        self.thread.join(timeout=5)
        self.sock.close()


class HangingServer:
    """A mail server that accepts every connection and never says a word; ``accepted`` counts
    the connections made to it."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.port = self.sock.getsockname()[1]
        self.held: list[socket.socket] = []
        self.thread = threading.Thread(target=self.hold, daemon=True)
        self.thread.start()

    @property
    def accepted(self) -> int:
        return len(self.held)

    def hold(self) -> None:
        with contextlib.suppress(OSError):  # closed
            while True:
                self.held.append(self.sock.accept()[0])

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)  # wakes the accept
        self.sock.close()
        for connection in self.held:
            connection.close()
