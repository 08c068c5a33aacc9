"""Authentication and authorization: sessions, MFA, password resets, WebSocket tickets, RBAC guards."""
