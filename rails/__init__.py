"""Payment rails: how money leaves and arrives, shared by origination and servicing.

Origination may not import servicing, so what both sides need to move money
lives here rather than in either app (or in `core`, the kernel of money,
audit and time):

- `rails.nacha`: the NACHA (ACH) file writer and return-file reader, pure.
- `rails.ach`: the platform's ACH originator, read from the ACH_* settings.
- `rails.accounts`: routing and account number checks, pure.
- `rails.disbursement`: a disbursement's payout, the rail adapters that send
  it (settings.DISBURSEMENT_RAIL) and the day's NACHA credit file, pure.
- `rails.gateway`: the card and bank payment gateway interface
  (settings.PAYMENT_GATEWAY) and the offline test gateway.

A plain package, not a Django app: no models. It imports only `core` (and the
standard library and third-party packages); pyproject.toml's import-linter
contracts say so and name the modules allowed to import it.
"""
