"""Identity administration: users, departments, roles, tenants and the audit trail."""
