"""Origination services: every write of the origination app, one function per
use case. Modules: kyc (sanctions lists, screening, compliance decisions,
identity checks)."""
