"""API key scopes. A view names the scope family it belongs to
(`api_scope = "customers"`); reads need "<family>:read", writes
"<family>:write". Later issues add families here."""

SCOPES: dict[str, str] = {
    "customers:read": "Read customers, their addresses, phones and consents",
    "customers:write": "Create and change customers",
}


def scope_for(family: str, method: str) -> str:
    return f"{family}:read" if method in ("GET", "HEAD", "OPTIONS") else f"{family}:write"
