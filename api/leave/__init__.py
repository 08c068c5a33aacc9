"""Leave: the tenant's leave types and entitlements, balances, requests for whole or half days, and who is away."""
