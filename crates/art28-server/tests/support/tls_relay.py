"""An SMTP relay with TLS and a login, for art28's mail tests (aiosmtpd).

Serves one way on 127.0.0.1:PORT: `starttls` (STARTTLS required before anything else) or
`implicit` (TLS from the first byte); either way AUTH is required and one user with one password
is accepted (a refused login is answered with the password tried, as a careless relay might).
Each message is saved to a Maildir with two headers put in front that say how it
came: X-Relay-Login (the user that logged in) and X-Relay-Tls (the TLS version, or "none").
Prints "ready" once it accepts connections and stops when its standard input closes.
"""

import argparse
import mailbox
import ssl
import sys

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--mode", choices=["starttls", "implicit"], required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--cert", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--user", required=True)
    p.add_argument("--password", required=True)
    p.add_argument("--maildir", required=True)
    args = p.parse_args()

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(args.cert, args.key)

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login == args.user.encode()
            and auth_data.password == args.password.encode()
        )
        if ok:
            return AuthResult(success=True, auth_data=auth_data, handled=False)
        # A careless relay that echoes what it was given: art28 must keep it out of its logs.
        tried = auth_data.password.decode() if isinstance(auth_data, LoginPassword) else ""
        return AuthResult(success=False, handled=False, message=f"535 5.7.8 bad password {tried}")

    box = mailbox.Maildir(args.maildir, create=True)

    class Save:
        async def handle_DATA(self, server, session, envelope):
            tls = server.transport.get_extra_info("ssl_object")
            login = session.auth_data.login.decode() if session.auth_data else ""
            head = f"X-Relay-Login: {login}\r\nX-Relay-Tls: {tls.version() if tls else 'none'}\r\n"
            box.add(head.encode() + envelope.original_content)
            return "250 Message accepted for delivery"

    common = dict(
        hostname="127.0.0.1",
        port=args.port,
        authenticator=authenticator,
        auth_required=True,
    )
    if args.mode == "starttls":
        controller = Controller(
            Save(), tls_context=context, require_starttls=True, auth_require_tls=True, **common
        )
    else:
        # aiosmtpd counts only STARTTLS as TLS when it decides whether to offer AUTH; this
        # connection is TLS from the first byte, so AUTH is offered without that check.
        controller = Controller(
            Save(), ssl_context=context, server_hostname="localhost", auth_require_tls=False, **common
        )
    controller.start()
    print("ready", flush=True)
    sys.stdin.read()
    controller.stop()


if __name__ == "__main__":
    main()
