"""Plain-ASGI middleware for headers every response carries: security headers, and the
session cookie when this request renewed it (see auth.require_session)."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Only parlour's own origin: no inline script, no CDN, no framing by other sites.
CONTENT_SECURITY_POLICY = (
    b"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    b"connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    b"frame-ancestors 'none'"
)
SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"content-security-policy", CONTENT_SECURITY_POLICY),
]
# Scope key under which a handler leaves a renewed Set-Cookie header for the response.
RENEWED_COOKIE = "parlour.renewed_cookie"


class ResponseHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [*message.get("headers", []), *SECURITY_HEADERS]
                renewed = scope.get(RENEWED_COOKIE)
                if renewed is not None and not any(n.lower() == b"set-cookie" for n, _ in headers):
                    headers.append(renewed)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
