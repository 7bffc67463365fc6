"""API key scopes. A view names the scope family it belongs to
(`api_scope = "customers"`); reads need "<family>:read", writes
"<family>:write". A view whose POST only computes (a quote) says so with
`api_scope_access = {"POST": "read"}`. Later issues add families here."""

SCOPES: dict[str, str] = {
    "customers:read": "Read customers, their addresses, phones and consents",
    "customers:write": "Create and change customers",
    "quotes:read": "Compute loan quotes, schedules and APRs (nothing is stored)",
    "loans:read": "Read loans, schedules, transactions, statements and payoff quotes",
    "loans:write": "Post payments and reversals, board loans, act on loans",
    "applications:read": "Read loan applications, decisions, offers and documents",
    "applications:write": "Create, submit and act on loan applications (underwriting and "
    "disbursing also need the key user's role permissions)",
}


def scope_for(family: str, method: str, access: dict[str, str] | None = None) -> str:
    default = "read" if method in ("GET", "HEAD", "OPTIONS") else "write"
    return f"{family}:{(access or {}).get(method, default)}"
