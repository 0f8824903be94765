"""A small SMTP server on loopback for the e-mail delivery tests: it speaks the protocol (EHLO/HELO, MAIL, RCPT,
DATA with dot-stuffing, RSET, NOOP, QUIT) over a real socket, keeps every message it accepted, and can refuse a
recipient for good (550) or answer the next messages with a temporary error (451) so that retries are seen."""
import email
import email.policy
import socketserver
import threading


class SmtpServer:
    def __init__(self):
        self.messages: list[dict] = []  # {"from", "to", "message" (email.message.EmailMessage), "raw"}
        self.refuse: set[str] = set()  # recipients answered with 550
        self.fail_next = 0  # DATA answered 451 this many times
        self.sessions = 0
        self.lock = threading.Lock()
        server = self

        class Handler(socketserver.StreamRequestHandler):
            def reply(self, line: str) -> None:
                self.wfile.write(line.encode() + b"\r\n")
                self.wfile.flush()

            def handle(self):
                with server.lock:
                    server.sessions += 1
                self.reply("220 loopback ESMTP test server")
                sender, recipients = None, []
                while True:
                    line = self.rfile.readline()
                    if not line:
                        return
                    command = line.decode(errors="replace").strip()
                    verb = command[:4].upper()
                    if verb in ("EHLO", "HELO"):
                        self.reply("250 loopback")
                    elif verb == "MAIL":
                        sender, recipients = command.split(":", 1)[1].strip().strip("<>"), []
                        self.reply("250 OK")
                    elif verb == "RCPT":
                        address = command.split(":", 1)[1].strip().strip("<>")
                        if address in server.refuse:
                            self.reply("550 5.1.1 no such mailbox")
                        else:
                            recipients.append(address)
                            self.reply("250 OK")
                    elif verb == "DATA":
                        self.reply("354 end with <CRLF>.<CRLF>")
                        lines = []
                        while True:
                            data = self.rfile.readline()
                            if data in (b".\r\n", b".\n", b""):
                                break
                            lines.append(data[1:] if data.startswith(b"..") else data)
                        raw = b"".join(lines)
                        with server.lock:
                            if server.fail_next > 0:
                                server.fail_next -= 1
                                self.reply("451 4.3.0 try again later")
                                continue
                            server.messages.append({
                                "from": sender, "to": list(recipients), "raw": raw,
                                "message": email.message_from_bytes(raw, policy=email.policy.default)})
                        self.reply("250 OK queued")
                    elif verb == "RSET":
                        sender, recipients = None, []
                        self.reply("250 OK")
                    elif verb == "NOOP":
                        self.reply("250 OK")
                    elif verb == "QUIT":
                        self.reply("221 bye")
                        return
                    else:
                        self.reply("502 command not implemented")

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True

        self.server = Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
