"""Billing operations: the platform team's operational view of each tenant's plan, usage and invoices."""
