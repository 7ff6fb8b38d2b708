"""Local stand-ins for the alert channels: a webhook receiver and an SMTP sink (the stdlib
smtpd is gone from Python 3.12; aiosmtpd is not a dependency)."""

from __future__ import annotations

import json
import socketserver
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Inbox:
    url: str
    messages: list[str] = field(default_factory=list)  # the "text" of each JSON body
    secret_path: str = "/services/T000/B000/s3cr3t-token"

    def wait(self, n: int, timeout: float = 10.0) -> list[str]:
        deadline = time.monotonic() + timeout
        while len(self.messages) < n and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.messages


def webhook_server() -> tuple[ThreadingHTTPServer, Inbox]:
    """A receiver on a free port: JSON POSTs to the secret path are kept, anything else 404s."""
    inbox = Inbox(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            ok = (
                self.path == inbox.secret_path
                and self.headers.get("Content-Type") == "application/json"
            )
            if ok:
                inbox.messages.append(json.loads(body)["text"])
            self.send_response(200 if ok else 404)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: object) -> None:  # quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    inbox.url = f"http://127.0.0.1:{server.server_address[1]}{inbox.secret_path}"
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    return server, inbox


class _SmtpHandler(socketserver.StreamRequestHandler):
    """Enough SMTP for smtplib: EHLO (offers AUTH), AUTH, MAIL, RCPT, DATA, QUIT."""

    def handle(self) -> None:
        sink: SmtpSink = self.server.sink  # type: ignore[attr-defined]

        def reply(text: str) -> None:
            self.wfile.write(f"{text}\r\n".encode())

        reply("220 sink ESMTP")
        lines: list[str] | None = None
        while raw := self.rfile.readline():
            text = raw.decode("utf-8", "replace").rstrip("\r\n")
            if lines is not None:  # inside DATA
                if text == ".":
                    sink.messages.append("\n".join(lines))
                    lines = None
                    reply("250 queued")
                else:
                    lines.append(text[1:] if text.startswith("..") else text)
                continue
            verb = text.split(" ", 1)[0].upper()
            if verb == "EHLO":
                reply("250-sink")
                reply("250 AUTH PLAIN LOGIN")
            elif verb == "AUTH":
                sink.auth.append(text)
                reply("235 authenticated")
            elif verb == "RCPT":
                sink.recipients.append(text.split(":", 1)[1].strip(" <>"))
                reply("250 ok")
            elif verb == "DATA":
                lines = []
                reply("354 end with .")
            elif verb == "QUIT":
                reply("221 bye")
                return
            else:
                reply("250 ok")


@dataclass
class SmtpSink:
    port: int
    messages: list[str] = field(default_factory=list)
    recipients: list[str] = field(default_factory=list)
    auth: list[str] = field(default_factory=list)


def smtp_server() -> tuple[socketserver.ThreadingTCPServer, SmtpSink]:
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _SmtpHandler)
    server.daemon_threads = True
    sink = SmtpSink(port=server.server_address[1])
    server.sink = sink  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    return server, sink
